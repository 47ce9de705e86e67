// REFERENCE STUB - not gRPC: channel base, credentials and errors of Grpc.Core.Api (the copy shipped
// by com.unity.ml-agents 2.x; see Calls.cs for the sources). See ../README.md.

using System;
using System.Threading.Tasks;

namespace Grpc.Core
{
    // Source: Grpc.Core.Api/ChannelBase.cs; XML `M:Grpc.Core.ChannelBase.CreateCallInvoker` and
    // `M:Grpc.Core.ChannelBase.ShutdownAsync` (non-virtual, calls the protected ShutdownAsyncCore).
    public abstract class ChannelBase
    {
        protected ChannelBase(string target) { throw new NotImplementedException(); }
        public abstract CallInvoker CreateCallInvoker();
        public Task ShutdownAsync() { throw new NotImplementedException(); }
        protected virtual Task ShutdownAsyncCore() { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core.Api/ChannelCredentials.cs; XML `P:Grpc.Core.ChannelCredentials.Insecure`.
    public abstract class ChannelCredentials
    {
        public static ChannelCredentials Insecure { get { throw new NotImplementedException(); } }
    }

    // Source: Grpc.Core.Api/SslCredentials.cs; XML `T:Grpc.Core.SslCredentials`,
    // `M:Grpc.Core.SslCredentials.#ctor` (system roots) and `M:Grpc.Core.SslCredentials.#ctor(System.String)`
    // (PEM root certificates) in com.unity.ml-agents Plugins/ProtoBuffer/Grpc.Core.Api/lib/net45/Grpc.Core.Api.xml.
    // Constructors taking a KeyCertificatePair or VerifyPeerCallback are left out.
    public sealed class SslCredentials : ChannelCredentials
    {
        public SslCredentials() { throw new NotImplementedException(); }
        public SslCredentials(string rootCertificates) { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core.Api/StatusCode.cs (numbers are the gRPC status codes).
    public enum StatusCode
    {
        OK = 0,
        Cancelled = 1,
        Unknown = 2,
        InvalidArgument = 3,
        DeadlineExceeded = 4,
        NotFound = 5,
        AlreadyExists = 6,
        PermissionDenied = 7,
        ResourceExhausted = 8,
        FailedPrecondition = 9,
        Aborted = 10,
        OutOfRange = 11,
        Unimplemented = 12,
        Internal = 13,
        Unavailable = 14,
        DataLoss = 15,
        Unauthenticated = 16,
    }

    // Source: Grpc.Core.Api/Status.cs (`public struct Status` with StatusCode and Detail).
    public struct Status
    {
        public StatusCode StatusCode { get { throw new NotImplementedException(); } }
        public string Detail { get { throw new NotImplementedException(); } }
    }

    // Source: Grpc.Core.Api/RpcException.cs; XML `P:Grpc.Core.RpcException.Status` and `P:...StatusCode`.
    public class RpcException : Exception
    {
        public RpcException(Status status) { throw new NotImplementedException(); }
        public Status Status { get { throw new NotImplementedException(); } }
        public StatusCode StatusCode { get { throw new NotImplementedException(); } }
    }
}
