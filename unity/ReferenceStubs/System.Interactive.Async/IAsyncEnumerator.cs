// REFERENCE STUB - not Ix.NET. System.Interactive.Async 3.0.1000 as shipped beside Grpc.Core.dll in
// com.unity.ml-agents 1.0.8 ... 3.0.0 (Plugins/ProtoBuffer). Grpc.Core 1.10's IAsyncStreamReader<T>
// gets MoveNext and Current from this interface. Every member here is checked against the real
// assembly's listing (../shared/unity-api/System.Interactive.Async-3.0.1000.api.txt) by
// tools/check_stub_api.py. See ../README.md.

using System;
using System.Threading;
using System.Threading.Tasks;

namespace System.Collections.Generic
{
    // Source: dotnet/reactive, Ix.NET/Source/System.Interactive.Async/IAsyncEnumerator.cs (v3.0.0);
    // listing lines `IAsyncEnumerator<T> :: interface ifaces=System.IDisposable`, `MoveNext(CancellationToken)`,
    // `prop T Current get`.
    public interface IAsyncEnumerator<out T> : IDisposable
    {
        Task<bool> MoveNext(CancellationToken cancellationToken);
        T Current { get; }
    }
}
