// REFERENCE STUB - not gRPC. Grpc.Core 1.10.0, the single Grpc.Core.dll that com.unity.ml-agents
// 1.0.8 ... 3.0.0 ship in Plugins/ProtoBuffer (there is no Grpc.Core.Api in 1.10: the split came with
// gRPC C# 1.21). Every member is checked against ../shared/unity-api/Grpc.Core-1.10.0.api.txt by
// tools/check_stub_api.py. C# sources: grpc/grpc v1.10.x, src/csharp/Grpc.Core/. See ../README.md.

using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace Grpc.Core
{
    // Source: Grpc.Core/Channel.cs (v1.10.x): `public class Channel` deriving from System.Object (no
    // ChannelBase before 1.21); listing `Grpc.Core.Channel :: class : System.Object`,
    // `.ctor(System.String, Grpc.Core.ChannelCredentials, IEnumerable<ChannelOption>)`, `Task ShutdownAsync()`.
    public class Channel
    {
        public Channel(string target, ChannelCredentials credentials) { throw new NotImplementedException(); }
        public Channel(string target, ChannelCredentials credentials, IEnumerable<ChannelOption> options) { throw new NotImplementedException(); }
        public Task ShutdownAsync() { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core/ChannelOptions.cs (v1.10.x); listing `ChannelOption :: .ctor(System.String, System.Int32)`.
    public sealed class ChannelOption
    {
        public ChannelOption(string name, int intValue) { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core/ChannelOptions.cs (v1.10.x); listing
    // `ChannelOptions :: field static System.String MaxReceiveMessageLength=grpc.max_receive_message_length`.
    public static class ChannelOptions
    {
        public const string MaxReceiveMessageLength = "grpc.max_receive_message_length";
    }

    // Source: Grpc.Core/DefaultCallInvoker.cs (v1.10.x); listing `DefaultCallInvoker :: .ctor(Grpc.Core.Channel)`
    // and the three Async*Call overrides.
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
