// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses with GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE,
// as Google.Protobuf 3.9.1 has them (Barracuda's copy; protocolbuffers/protobuf tag v3.9.1); written by
// hand and checked line by line against ../shared/unity-api/Google.Protobuf-3.9.1.api.txt.

using System;

namespace Google.Protobuf.Reflection
{
    // Source: csharp/src/Google.Protobuf/Reflection/GeneratedClrTypeInfo.cs. Both overload
    // pairs are declared: generated code passes null for the extensions, so overload
    // resolution must see the real set to prove that the calls bind as they will in Unity.
    public sealed class GeneratedClrTypeInfo
    {
        public GeneratedClrTypeInfo(Type clrType, MessageParser parser, string[] propertyNames,
            string[] oneofNames, Type[] nestedEnums, Extension[] extensions, GeneratedClrTypeInfo[] nestedTypes)
        {
            throw new NotImplementedException();
        }

        public GeneratedClrTypeInfo(Type clrType, MessageParser parser, string[] propertyNames,
            string[] oneofNames, Type[] nestedEnums, GeneratedClrTypeInfo[] nestedTypes)
        {
            throw new NotImplementedException();
        }

        public GeneratedClrTypeInfo(Type[] nestedEnums, Extension[] extensions, GeneratedClrTypeInfo[] nestedTypes)
        {
            throw new NotImplementedException();
        }

        public GeneratedClrTypeInfo(Type[] nestedEnums, GeneratedClrTypeInfo[] nestedTypes)
        {
            throw new NotImplementedException();
        }
    }
}
