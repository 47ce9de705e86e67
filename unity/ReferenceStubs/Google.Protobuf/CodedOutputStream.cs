// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses with GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE,
// as Google.Protobuf 3.9.1 has them (Barracuda's copy; protocolbuffers/protobuf tag v3.9.1); written by
// hand and checked line by line against ../shared/unity-api/Google.Protobuf-3.9.1.api.txt.

using System;

namespace Google.Protobuf
{
    // Sources: csharp/src/Google.Protobuf/CodedOutputStream.cs (v3.9.1: the field writers, Dispose) and
    // csharp/src/Google.Protobuf/CodedOutputStream.ComputeSize.cs (the static Compute*Size).
    public sealed partial class CodedOutputStream : IDisposable
    {
        private CodedOutputStream() { }

        public void WriteBool(bool value) { throw new NotImplementedException(); }
        public void WriteBytes(ByteString value) { throw new NotImplementedException(); }
        public void WriteDouble(double value) { throw new NotImplementedException(); }
        public void WriteEnum(int value) { throw new NotImplementedException(); }
        public void WriteInt32(int value) { throw new NotImplementedException(); }
        public void WriteInt64(long value) { throw new NotImplementedException(); }
        public void WriteUInt32(uint value) { throw new NotImplementedException(); }
        public void WriteUInt64(ulong value) { throw new NotImplementedException(); }
        public void WriteFloat(float value) { throw new NotImplementedException(); }
        public void WriteMessage(IMessage value) { throw new NotImplementedException(); }
        public void WriteString(string value) { throw new NotImplementedException(); }
        public void WriteRawTag(byte b1) { throw new NotImplementedException(); }
        public void WriteRawTag(byte b1, byte b2) { throw new NotImplementedException(); }
        public void WriteRawTag(byte b1, byte b2, byte b3) { throw new NotImplementedException(); }
        public void WriteRawTag(byte b1, byte b2, byte b3, byte b4) { throw new NotImplementedException(); }
        public void WriteRawTag(byte b1, byte b2, byte b3, byte b4, byte b5) { throw new NotImplementedException(); }

        public void Dispose() { throw new NotImplementedException(); }

        public static int ComputeUInt64Size(ulong value) { throw new NotImplementedException(); }
        public static int ComputeInt64Size(long value) { throw new NotImplementedException(); }
        public static int ComputeStringSize(String value) { throw new NotImplementedException(); }
        public static int ComputeMessageSize(IMessage value) { throw new NotImplementedException(); }
        public static int ComputeBytesSize(ByteString value) { throw new NotImplementedException(); }
        public static int ComputeUInt32Size(uint value) { throw new NotImplementedException(); }
        public static int ComputeEnumSize(int value) { throw new NotImplementedException(); }
        public static int ComputeInt32Size(int value) { throw new NotImplementedException(); }
    }
}
