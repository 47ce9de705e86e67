// REFERENCE STUB - not the Google.Protobuf runtime (see unity/ReferenceStubs/README.md).
// Used by the package's gRPC marshallers (Runtime/Unity/Bridge/BridgeMethods.cs), not by the
// generated code.

using System;

namespace Google.Protobuf
{
    // Source: csharp/src/Google.Protobuf/MessageExtensions.cs (static class MessageExtensions,
    // `public static byte[] ToByteArray(this IMessage message)`; its other extensions left out).
    public static class MessageExtensions
    {
        public static byte[] ToByteArray(this IMessage message) { throw new NotImplementedException(); }
    }
}
