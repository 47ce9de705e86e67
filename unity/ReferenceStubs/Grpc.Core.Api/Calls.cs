// REFERENCE STUB - not gRPC. Grpc.Core.Api as shipped by com.unity.ml-agents 2.x in
// Plugins/ProtoBuffer/Grpc.Core.Api.dll (its API is listed member by member in the XML doc next to it:
// Unity-Technologies/ml-agents, com.unity.ml-agents/Plugins/ProtoBuffer/Grpc.Core.Api/lib/net45/Grpc.Core.Api.xml;
// the C# sources are grpc/grpc, src/csharp/Grpc.Core.Api/). Declares only what BridgeClient calls;
// every body throws. See ../README.md.

using System;
using System.Threading;
using System.Threading.Tasks;

namespace Grpc.Core
{
    // Source: Grpc.Core.Api/Marshaller.cs; XML `M:Grpc.Core.Marshaller`1.#ctor(System.Func{`0,System.Byte[]},System.Func{System.Byte[],`0})`.
    public class Marshaller<T>
    {
        public Marshaller(Func<T, byte[]> serializer, Func<byte[], T> deserializer) { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core.Api/Marshaller.cs; XML `M:Grpc.Core.Marshallers.Create``1(System.Func{``0,System.Byte[]},System.Func{System.Byte[],``0})`.
    public static class Marshallers
    {
        public static Marshaller<T> Create<T>(Func<T, byte[]> serializer, Func<byte[], T> deserializer) { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core.Api/Method.cs; XML `T:Grpc.Core.MethodType` (Unary, ClientStreaming,
    // ServerStreaming, DuplexStreaming, in that order).
    public enum MethodType
    {
        Unary,
        ClientStreaming,
        ServerStreaming,
        DuplexStreaming,
    }

    // Source: Grpc.Core.Api/Method.cs; XML `M:Grpc.Core.Method`2.#ctor(Grpc.Core.MethodType,System.String,System.String,Grpc.Core.Marshaller{`0},Grpc.Core.Marshaller{`1})`
    // and `P:Grpc.Core.Method`2.FullName` (the IMethod interface is left out).
    public class Method<TRequest, TResponse>
    {
        public Method(MethodType type, string serviceName, string name, Marshaller<TRequest> requestMarshaller,
            Marshaller<TResponse> responseMarshaller) { throw new NotImplementedException(); }
        public string FullName { get { throw new NotImplementedException(); } }
    }

    // Source: Grpc.Core.Api/CallInvoker.cs; XML `M:Grpc.Core.CallInvoker.AsyncUnaryCall``2(Grpc.Core.Method{``0,``1},System.String,Grpc.Core.CallOptions,``0)`,
    // `...AsyncServerStreamingCall``2(...,``0)` and `...AsyncDuplexStreamingCall``2(Grpc.Core.Method{``0,``1},System.String,Grpc.Core.CallOptions)`;
    // the generic constraints `where TRequest : class where TResponse : class` are the source's.
    public abstract class CallInvoker
    {
        public abstract AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method,
            string host, CallOptions options, TRequest request) where TRequest : class where TResponse : class;
        public abstract AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string host, CallOptions options, TRequest request)
            where TRequest : class where TResponse : class;
        public abstract AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string host, CallOptions options)
            where TRequest : class where TResponse : class;
    }

    // Source: Grpc.Core.Api/CallOptions.cs; XML `M:Grpc.Core.CallOptions.#ctor(Grpc.Core.Metadata,System.Nullable{System.DateTime},System.Threading.CancellationToken,Grpc.Core.WriteOptions,Grpc.Core.ContextPropagationToken,Grpc.Core.CallCredentials)`
    // (all parameters optional in the source).
    public struct CallOptions
    {
        public CallOptions(Metadata headers = null, DateTime? deadline = null,
            CancellationToken cancellationToken = default(CancellationToken), WriteOptions writeOptions = null,
            ContextPropagationToken propagationToken = null, CallCredentials credentials = null) { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core.Api/WriteOptions.cs (named only as a CallOptions parameter type).
    public class WriteOptions
    {
        private WriteOptions() { }
    }

    // Source: Grpc.Core.Api/ContextPropagationToken.cs (named only as a CallOptions parameter type).
    public abstract class ContextPropagationToken
    {
    }

    // Source: Grpc.Core.Api/CallCredentials.cs (named only as a CallOptions parameter type).
    public abstract class CallCredentials
    {
    }

    // Source: Grpc.Core.Api/Metadata.cs; XML `M:Grpc.Core.Metadata.#ctor` and
    // `M:Grpc.Core.Metadata.Add(System.String,System.String)` (IList<Entry> left out).
    public sealed class Metadata
    {
        public Metadata() { throw new NotImplementedException(); }
        public void Add(string key, string value) { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core.Api/IAsyncStreamReader.cs; XML `P:Grpc.Core.IAsyncStreamReader`1.Current` and
    // `M:Grpc.Core.IAsyncStreamReader`1.MoveNext(System.Threading.CancellationToken)`.
    public interface IAsyncStreamReader<out T>
    {
        T Current { get; }
        Task<bool> MoveNext(CancellationToken cancellationToken);
    }

    // Source: Grpc.Core.Api/IAsyncStreamWriter.cs; XML `M:Grpc.Core.IAsyncStreamWriter`1.WriteAsync(`0)`.
    public interface IAsyncStreamWriter<in T>
    {
        Task WriteAsync(T message);
    }

    // Source: Grpc.Core.Api/IClientStreamWriter.cs; XML `M:Grpc.Core.IClientStreamWriter`1.CompleteAsync`.
    public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
    {
        Task CompleteAsync();
    }

    // Source: Grpc.Core.Api/AsyncUnaryCall.cs; XML `P:Grpc.Core.AsyncUnaryCall`1.ResponseAsync`, `...Dispose`.
    public sealed class AsyncUnaryCall<TResponse> : IDisposable
    {
        private AsyncUnaryCall() { }
        public Task<TResponse> ResponseAsync { get { throw new NotImplementedException(); } }
        public void Dispose() { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core.Api/AsyncServerStreamingCall.cs; XML `P:Grpc.Core.AsyncServerStreamingCall`1.ResponseStream`, `...Dispose`.
    public sealed class AsyncServerStreamingCall<TResponse> : IDisposable
    {
        private AsyncServerStreamingCall() { }
        public IAsyncStreamReader<TResponse> ResponseStream { get { throw new NotImplementedException(); } }
        public void Dispose() { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core.Api/AsyncDuplexStreamingCall.cs; XML `P:Grpc.Core.AsyncDuplexStreamingCall`2.RequestStream`,
    // `...ResponseStream`, `...Dispose`.
    public sealed class AsyncDuplexStreamingCall<TRequest, TResponse> : IDisposable
    {
        private AsyncDuplexStreamingCall() { }
        public IClientStreamWriter<TRequest> RequestStream { get { throw new NotImplementedException(); } }
        public IAsyncStreamReader<TResponse> ResponseStream { get { throw new NotImplementedException(); } }
        public void Dispose() { throw new NotImplementedException(); }
    }
}
