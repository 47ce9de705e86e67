// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses, with the signatures of the real
// library (Google.Protobuf 3.22, protocolbuffers/protobuf tag v22.x); written by hand.

namespace Google.Protobuf
{
    // Source: csharp/src/Google.Protobuf/WriteContext.cs. A ref struct in the real library
    // (it holds a Span<byte>); the stub keeps the ref-struct restrictions.
    public ref struct WriteContext
    {
        public void WriteDouble(double value) { throw new System.NotImplementedException(); }
        public void WriteFloat(float value) { throw new System.NotImplementedException(); }
        public void WriteUInt64(ulong value) { throw new System.NotImplementedException(); }
        public void WriteInt64(long value) { throw new System.NotImplementedException(); }
        public void WriteBool(bool value) { throw new System.NotImplementedException(); }
        public void WriteString(string value) { throw new System.NotImplementedException(); }
        public void WriteMessage(IMessage value) { throw new System.NotImplementedException(); }
        public void WriteBytes(ByteString value) { throw new System.NotImplementedException(); }
        public void WriteUInt32(uint value) { throw new System.NotImplementedException(); }
        public void WriteEnum(int value) { throw new System.NotImplementedException(); }
        public void WriteRawTag(byte b1) { throw new System.NotImplementedException(); }
        public void WriteRawTag(byte b1, byte b2) { throw new System.NotImplementedException(); }
        public void WriteInt32(int value) { throw new System.NotImplementedException(); }
    }
}
