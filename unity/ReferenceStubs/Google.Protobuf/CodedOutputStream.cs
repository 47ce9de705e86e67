// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses, with the signatures of the real
// library (Google.Protobuf 3.22, protocolbuffers/protobuf tag v22.x); written by hand.

using System;

namespace Google.Protobuf
{
    // Sources: csharp/src/Google.Protobuf/CodedOutputStream.cs (WriteRawMessage, Dispose) and
    // csharp/src/Google.Protobuf/CodedOutputStream.ComputeSize.cs (the static Compute*Size).
    public sealed partial class CodedOutputStream : IDisposable
    {
        private CodedOutputStream() { }

        public void WriteRawMessage(IMessage value) { throw new NotImplementedException(); }

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
