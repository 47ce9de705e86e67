// REFERENCE STUB - not gRPC: credentials and errors of Grpc.Core 1.10.0 (one assembly; see Channel.cs).
// Every member is checked against ../shared/unity-api/Grpc.Core-1.10.0.api.txt by
// tools/check_stub_api.py. See ../README.md.

using System;
using System.Threading.Tasks;

namespace Grpc.Core
{
    // Source: Grpc.Core/ChannelCredentials.cs; XML `P:Grpc.Core.ChannelCredentials.Insecure`.
    public abstract class ChannelCredentials
    {
        public static ChannelCredentials Insecure { get { throw new NotImplementedException(); } }
    }

    // Source: Grpc.Core/SslCredentials.cs (v1.10.x); listing `SslCredentials :: .ctor()` and `.ctor(System.String)`.
    // The parameterless constructor trusts the roots.pem embedded in Grpc.Core.dll (gRPC's bundle as of
    // the 1.10 release, early 2018), not the operating system's store; see the package README.
    public sealed class SslCredentials : ChannelCredentials
    {
        public SslCredentials() { throw new NotImplementedException(); }
        public SslCredentials(string rootCertificates) { throw new NotImplementedException(); }
    }

    // Source: Grpc.Core/StatusCode.cs (numbers are the gRPC status codes).
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

    // Source: Grpc.Core/Status.cs (`public struct Status` with StatusCode and Detail).
    public struct Status
    {
        public StatusCode StatusCode { get { throw new NotImplementedException(); } }
        public string Detail { get { throw new NotImplementedException(); } }
    }

    // Source: Grpc.Core/RpcException.cs (v1.10.x): `Status` only (`StatusCode` came in 1.11);
    // listing `RpcException :: .ctor(Grpc.Core.Status)`, `prop Grpc.Core.Status Status get`.
    public class RpcException : Exception
    {
        public RpcException(Status status) { throw new NotImplementedException(); }
        public Status Status { get { throw new NotImplementedException(); } }
    }
}
