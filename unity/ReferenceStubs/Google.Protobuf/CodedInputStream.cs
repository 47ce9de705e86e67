// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses with GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE,
// as Google.Protobuf 3.9.1 has them (Barracuda's copy; protocolbuffers/protobuf tag v3.9.1); written by
// hand and checked line by line against ../shared/unity-api/Google.Protobuf-3.9.1.api.txt.

using System;

namespace Google.Protobuf
{
    // Source: csharp/src/Google.Protobuf/CodedInputStream.cs (v3.9.1); the field readers that the
    // compatibility-mode gencode calls (listing lines `CodedInputStream :: System.UInt32 ReadTag()` etc.).
    public sealed class CodedInputStream : IDisposable
    {
        private CodedInputStream() { }

        public uint ReadTag() { throw new NotImplementedException(); }
        public bool ReadBool() { throw new NotImplementedException(); }
        public ByteString ReadBytes() { throw new NotImplementedException(); }
        public double ReadDouble() { throw new NotImplementedException(); }
        public int ReadEnum() { throw new NotImplementedException(); }
        public int ReadInt32() { throw new NotImplementedException(); }
        public long ReadInt64() { throw new NotImplementedException(); }
        public uint ReadUInt32() { throw new NotImplementedException(); }
        public ulong ReadUInt64() { throw new NotImplementedException(); }
        public float ReadFloat() { throw new NotImplementedException(); }
        public string ReadString() { throw new NotImplementedException(); }
        public void ReadMessage(IMessage builder) { throw new NotImplementedException(); }

        public void Dispose() { throw new NotImplementedException(); }
    }
}
