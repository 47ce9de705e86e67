#if STYLEBRIDGE_MLAGENTS && (UNITY_EDITOR || UNITY_STANDALONE)
using Google.Protobuf;
using Grpc.Core;
using BridgeProtocol = StyleBridge.Core.BridgeProtocol;
using StyleBridge.Protocol.V1;

namespace StyleBridge.Bridge
{
    /// <summary>
    /// Hand-written gRPC method descriptors for service <c>stylebridge.v1.Bridge</c> (there is no C#
    /// gRPC plugin in this build; these are what <c>grpc_csharp_plugin</c> would generate): one
    /// <see cref="Method{TRequest,TResponse}"/> per RPC with marshallers over the generated messages.
    /// Compiled where ML-Agents ships Grpc.Core (editor and desktop players), like ML-Agents' own
    /// communicator.
    /// </summary>
    public static class BridgeMethods
    {
        /// <summary>rpc Hello(HelloRequest) returns (HelloResponse).</summary>
        public static readonly Method<HelloRequest, HelloResponse> Hello =
            new Method<HelloRequest, HelloResponse>(MethodType.Unary, BridgeProtocol.ServiceName, "Hello",
                Marshaller(HelloRequest.Parser), Marshaller(HelloResponse.Parser));

        /// <summary>rpc Frames(stream FrameUp) returns (stream FrameDown).</summary>
        public static readonly Method<FrameUp, FrameDown> Frames =
            new Method<FrameUp, FrameDown>(MethodType.DuplexStreaming, BridgeProtocol.ServiceName, "Frames",
                Marshaller(FrameUp.Parser), Marshaller(FrameDown.Parser));

        /// <summary>rpc Models(ModelsRequest) returns (stream ModelChunk).</summary>
        public static readonly Method<ModelsRequest, ModelChunk> Models =
            new Method<ModelsRequest, ModelChunk>(MethodType.ServerStreaming, BridgeProtocol.ServiceName, "Models",
                Marshaller(ModelsRequest.Parser), Marshaller(ModelChunk.Parser));

        /// <summary>rpc AckModel(ModelAck) returns (ModelAckReceipt).</summary>
        public static readonly Method<ModelAck, ModelAckReceipt> AckModel =
            new Method<ModelAck, ModelAckReceipt>(MethodType.Unary, BridgeProtocol.ServiceName, "AckModel",
                Marshaller(ModelAck.Parser), Marshaller(ModelAckReceipt.Parser));

        private static Marshaller<T> Marshaller<T>(MessageParser<T> parser) where T : class, IMessage<T>
        {
            return Marshallers.Create<T>(message => message.ToByteArray(), bytes => parser.ParseFrom(bytes));
        }
    }
}
#endif
