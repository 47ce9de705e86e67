// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses, with the signatures of the real
// library (Google.Protobuf 3.22, protocolbuffers/protobuf tag v22.x); written by hand.

using System.Collections.Generic;

namespace Google.Protobuf.Reflection
{
    // Source: csharp/src/Google.Protobuf/Reflection/FileDescriptor.cs. The real class also
    // implements IDescriptor; generated code does not rely on it, so that is left out.
    public sealed class FileDescriptor
    {
        private FileDescriptor() { }

        public IList<MessageDescriptor> MessageTypes { get { throw new System.NotImplementedException(); } }

        public static FileDescriptor FromGeneratedCode(
            byte[] descriptorData, FileDescriptor[] dependencies, GeneratedClrTypeInfo generatedCodeInfo)
        {
            throw new System.NotImplementedException();
        }
    }
}
