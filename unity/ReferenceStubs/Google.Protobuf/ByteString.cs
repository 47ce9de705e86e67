// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses with GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE,
// as Google.Protobuf 3.9.1 has them (Barracuda's copy; protocolbuffers/protobuf tag v3.9.1); written by
// hand and checked line by line against ../shared/unity-api/Google.Protobuf-3.9.1.api.txt.

using System;

namespace Google.Protobuf
{
    // Source: csharp/src/Google.Protobuf/ByteString.cs. The real class also implements
    // IEnumerable<byte>; generated code does not enumerate it, so that is left out.
    public sealed class ByteString : IEquatable<ByteString>
    {
        private ByteString() { }

        public static ByteString Empty { get { throw new NotImplementedException(); } }
        public int Length { get { throw new NotImplementedException(); } }

        // Used by the package's proto conversions (Runtime/Unity/Bridge/ProtoConvert.cs):
        // `public static ByteString CopyFrom(params byte[] bytes)` and `public byte[] ToByteArray()`.
        public static ByteString CopyFrom(params byte[] bytes) { throw new NotImplementedException(); }
        public byte[] ToByteArray() { throw new NotImplementedException(); }

        public static bool operator ==(ByteString lhs, ByteString rhs) { throw new NotImplementedException(); }
        public static bool operator !=(ByteString lhs, ByteString rhs) { throw new NotImplementedException(); }
        public override bool Equals(object obj) { throw new NotImplementedException(); }
        public override int GetHashCode() { throw new NotImplementedException(); }
        public bool Equals(ByteString other) { throw new NotImplementedException(); }
    }
}
