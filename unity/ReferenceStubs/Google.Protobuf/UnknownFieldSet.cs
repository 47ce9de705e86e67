// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses with GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE,
// as Google.Protobuf 3.9.1 has them (Barracuda's copy; protocolbuffers/protobuf tag v3.9.1); written by
// hand and checked line by line against ../shared/unity-api/Google.Protobuf-3.9.1.api.txt.

namespace Google.Protobuf
{
    // Source: csharp/src/Google.Protobuf/UnknownFieldSet.cs (its constructor is internal).
    public sealed partial class UnknownFieldSet
    {
        internal UnknownFieldSet() { }

        public void WriteTo(CodedOutputStream output) { throw new System.NotImplementedException(); }
        public int CalculateSize() { throw new System.NotImplementedException(); }
        public override bool Equals(object other) { throw new System.NotImplementedException(); }
        public override int GetHashCode() { throw new System.NotImplementedException(); }

        public static UnknownFieldSet MergeFieldFrom(UnknownFieldSet unknownFields, CodedInputStream input)
        {
            throw new System.NotImplementedException();
        }

        public static UnknownFieldSet MergeFrom(UnknownFieldSet unknownFields, UnknownFieldSet other)
        {
            throw new System.NotImplementedException();
        }

        public static UnknownFieldSet Clone(UnknownFieldSet other) { throw new System.NotImplementedException(); }
    }
}
