// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses, with the signatures of the real
// library (Google.Protobuf 3.22, protocolbuffers/protobuf tag v22.x); written by hand.

namespace Google.Protobuf
{
    // Source: csharp/src/Google.Protobuf/ParseContext.cs. A ref struct in the real library
    // (it holds a ReadOnlySpan<byte>); the stub keeps the ref-struct restrictions.
    public ref struct ParseContext
    {
        public uint ReadTag() { throw new System.NotImplementedException(); }
        public double ReadDouble() { throw new System.NotImplementedException(); }
        public float ReadFloat() { throw new System.NotImplementedException(); }
        public ulong ReadUInt64() { throw new System.NotImplementedException(); }
        public long ReadInt64() { throw new System.NotImplementedException(); }
        public bool ReadBool() { throw new System.NotImplementedException(); }
        public string ReadString() { throw new System.NotImplementedException(); }
        public void ReadMessage(IMessage message) { throw new System.NotImplementedException(); }
        public ByteString ReadBytes() { throw new System.NotImplementedException(); }
        public uint ReadUInt32() { throw new System.NotImplementedException(); }
        public int ReadEnum() { throw new System.NotImplementedException(); }
        public int ReadInt32() { throw new System.NotImplementedException(); }
    }
}
