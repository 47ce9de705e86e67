// REFERENCE STUB - not gRPC. The call API of Grpc.Core 1.10.0 (one assembly; see Channel.cs). Declares
// only what BridgeConnection calls; every body throws; every member is checked against
// ../shared/unity-api/Grpc.Core-1.10.0.api.txt by tools/check_stub_api.py. See ../README.md.

extern alias Ix;

using System;
using System.Threading;
using System.Threading.Tasks;

namespace Grpc.Core
{
    // Source: Grpc.Core/Marshaller.cs; Grpc.Core.xml `M:Grpc.Core.Marshaller`1.#ctor(System.Func{`0,System.Byte[]},System.Func{System.Byte[],`0})`.
    public class Marshaller<T>
    {
        public Marshaller(Func<T, byte[]> serializer, Func<byte[], T> deserializer) { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core/Marshaller.cs; Grpc.Core.xml `M:Grpc.Core.Marshallers.Create``1(System.Func{``0,System.Byte[]},System.Func{System.Byte[],``0})`.
    public static class Marshallers
    {
        public static Marshaller<T> Create<T>(Func<T, byte[]> serializer, Func<byte[], T> deserializer) { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core/Method.cs; Grpc.Core.xml `T:Grpc.Core.MethodType` (Unary, ClientStreaming,
    // ServerStreaming, DuplexStreaming, in that order).
    public enum MethodType
    {
        Unary,
        ClientStreaming,
        ServerStreaming,
        DuplexStreaming,
    }

    // Source: Grpc.Core/Method.cs; Grpc.Core.xml `M:Grpc.Core.Method`2.#ctor(Grpc.Core.MethodType,System.String,System.String,Grpc.Core.Marshaller{`0},Grpc.Core.Marshaller{`1})`
    // and `P:Grpc.Core.Method`2.FullName` (the IMethod interface is left out).
    public class Method<TRequest, TResponse>
    {
        public Method(MethodType type, string serviceName, string name, Marshaller<TRequest> requestMarshaller,
            Marshaller<TResponse> responseMarshaller) { throw new NotImplementedException(); }
        public string FullName { get { throw new NotImplementedException(); } }
    }

    // Source: Grpc.Core/CallInvoker.cs; Grpc.Core.xml `M:Grpc.Core.CallInvoker.AsyncUnaryCall``2(Grpc.Core.Method{``0,``1},System.String,Grpc.Core.CallOptions,``0)`,
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

    // Source: Grpc.Core/CallOptions.cs; Grpc.Core.xml `M:Grpc.Core.CallOptions.#ctor(Grpc.Core.Metadata,System.Nullable{System.DateTime},System.Threading.CancellationToken,Grpc.Core.WriteOptions,Grpc.Core.ContextPropagationToken,Grpc.Core.CallCredentials)`
    // (all parameters optional in the source).
    public struct CallOptions
    {
        public CallOptions(Metadata headers = null, DateTime? deadline = null,
            CancellationToken cancellationToken = default(CancellationToken), WriteOptions writeOptions = null,
            ContextPropagationToken propagationToken = null, CallCredentials credentials = null) { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core/WriteOptions.cs (named only as a CallOptions parameter type).
    public class WriteOptions
    {
        private WriteOptions() { }
    }

    // Source: Grpc.Core/ContextPropagationToken.cs (named only as a CallOptions parameter type).
    public sealed class ContextPropagationToken
    {
        internal ContextPropagationToken() { }
    }

    // Source: Grpc.Core/CallCredentials.cs (named only as a CallOptions parameter type).
    public abstract class CallCredentials
    {
    }

    // Source: Grpc.Core/Metadata.cs; Grpc.Core.xml `M:Grpc.Core.Metadata.#ctor` and
    // `M:Grpc.Core.Metadata.Add(System.String,System.String)` (IList<Entry> left out).
    public sealed class Metadata
    {
        public Metadata() { throw new NotImplementedException(); }
        public void Add(string key, string value) { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core/IAsyncStreamReader.cs (v1.10.x): `public interface IAsyncStreamReader<T> :
    // IAsyncEnumerator<T>`; MoveNext(CancellationToken) and Current are System.Interactive.Async's
    // (listing `IAsyncStreamReader<T> :: interface ifaces=System.Collections.Generic.IAsyncEnumerator<T>,System.IDisposable`).
    // The extern alias: Mono's (and Unity 2021.2+'s .NET Standard 2.1) class library defines a
    // System.Collections.Generic.IAsyncEnumerator<T> of its own (MoveNextAsync, no token); Grpc.Core's is Ix.NET's.
    public interface IAsyncStreamReader<T> : Ix::System.Collections.Generic.IAsyncEnumerator<T>
    {
    }

    // Source: Grpc.Core/IAsyncStreamWriter.cs; Grpc.Core.xml `M:Grpc.Core.IAsyncStreamWriter`1.WriteAsync(`0)`.
    public interface IAsyncStreamWriter<in T>
    {
        Task WriteAsync(T message);
    }

    // Source: Grpc.Core/IClientStreamWriter.cs; Grpc.Core.xml `M:Grpc.Core.IClientStreamWriter`1.CompleteAsync`.
    public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
    {
        Task CompleteAsync();
    }

    // Source: Grpc.Core/AsyncUnaryCall.cs; Grpc.Core.xml `P:Grpc.Core.AsyncUnaryCall`1.ResponseAsync`, `...Dispose`.
    public sealed class AsyncUnaryCall<TResponse> : IDisposable
    {
        private AsyncUnaryCall() { }
        public Task<TResponse> ResponseAsync { get { throw new NotImplementedException(); } }
        public void Dispose() { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core/AsyncServerStreamingCall.cs; Grpc.Core.xml `P:Grpc.Core.AsyncServerStreamingCall`1.ResponseStream`, `...Dispose`.
    public sealed class AsyncServerStreamingCall<TResponse> : IDisposable
    {
        private AsyncServerStreamingCall() { }
        public IAsyncStreamReader<TResponse> ResponseStream { get { throw new NotImplementedException(); } }
        public void Dispose() { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core/AsyncDuplexStreamingCall.cs; Grpc.Core.xml `P:Grpc.Core.AsyncDuplexStreamingCall`2.RequestStream`,
    // `...ResponseStream`, `...Dispose`.
    public sealed class AsyncDuplexStreamingCall<TRequest, TResponse> : IDisposable
    {
        private AsyncDuplexStreamingCall() { }
        public IClientStreamWriter<TRequest> RequestStream { get { throw new NotImplementedException(); } }
        public IAsyncStreamReader<TResponse> ResponseStream { get { throw new NotImplementedException(); } }
        public void Dispose() { throw new NotImplementedException(); }
    }
}
