// REFERENCE STUB - not gRPC. Grpc.Core as shipped by com.unity.ml-agents 2.x in
// Plugins/ProtoBuffer/Grpc.Core.dll (API listed in Unity-Technologies/ml-agents,
// com.unity.ml-agents/Plugins/ProtoBuffer/Grpc.Core/lib/net45/Grpc.Core.xml; C# sources:
// grpc/grpc, src/csharp/Grpc.Core/Channel.cs). See ../README.md.

using System;
using System.Threading.Tasks;

namespace Grpc.Core
{
    // Source: Grpc.Core/Channel.cs; XML `M:Grpc.Core.Channel.#ctor(System.String,Grpc.Core.ChannelCredentials)`,
    // `M:Grpc.Core.Channel.CreateCallInvoker` and `M:Grpc.Core.Channel.ShutdownAsyncCore`
    // (ShutdownAsync itself is ChannelBase's).
    public class Channel : ChannelBase
    {
        public Channel(string target, ChannelCredentials credentials) : base(target) { throw new NotImplementedException(); }
        public override CallInvoker CreateCallInvoker() { throw new NotImplementedException(); }
        protected override Task ShutdownAsyncCore() { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core/DefaultCallInvoker.cs; XML `M:Grpc.Core.DefaultCallInvoker.#ctor(Grpc.Core.Channel)`
    // (present in gRPC C# 1.x and 2.x alike, which is why BridgeConnection uses it).
    public class DefaultCallInvoker : CallInvoker
    {
        public DefaultCallInvoker(Channel channel) { throw new NotImplementedException(); }

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method,
            string host, CallOptions options, TRequest request) { throw new NotImplementedException(); }

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string host, CallOptions options, TRequest request) { throw new NotImplementedException(); }

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string host, CallOptions options) { throw new NotImplementedException(); }
    }
}
