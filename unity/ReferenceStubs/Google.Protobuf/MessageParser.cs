// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses with GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE,
// as Google.Protobuf 3.9.1 has them (Barracuda's copy; protocolbuffers/protobuf tag v3.9.1); written by
// hand and checked line by line against ../shared/unity-api/Google.Protobuf-3.9.1.api.txt.

using System;

namespace Google.Protobuf
{
    // Source: csharp/src/Google.Protobuf/MessageParser.cs (class MessageParser; its
    // constructor is internal in the real library).
    public class MessageParser
    {
        internal MessageParser(Func<IMessage> factory) { }
    }

    // Source: csharp/src/Google.Protobuf/MessageParser.cs (class MessageParser<T>).
    public sealed class MessageParser<T> : MessageParser where T : IMessage<T>
    {
        public MessageParser(Func<T> factory) : base(null) { throw new NotImplementedException(); }

        // Used by the package's gRPC marshallers (Runtime/Unity/Bridge/BridgeMethods.cs). The real
        // member is `public new T ParseFrom(byte[] data)`, hiding MessageParser.ParseFrom.
        public T ParseFrom(byte[] data) { throw new NotImplementedException(); }
    }
}
