// REFERENCE STUB - not the Google.Protobuf runtime (see unity/ReferenceStubs/README.md).
// Used by the package's perf side channel (Runtime/Unity/Perf/PerfSideChannel.cs), not by the
// generated code.

using System;
using System.IO;

namespace Google.Protobuf
{
    // Source: csharp/src/Google.Protobuf/InvalidProtocolBufferException.cs
    // (`public sealed class InvalidProtocolBufferException : IOException`; its constructors are internal).
    public sealed class InvalidProtocolBufferException : IOException
    {
        private InvalidProtocolBufferException() { }
    }
}
