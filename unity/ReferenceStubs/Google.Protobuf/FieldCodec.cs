// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses with GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE,
// as Google.Protobuf 3.9.1 has them (Barracuda's copy; protocolbuffers/protobuf tag v3.9.1); written by
// hand and checked line by line against ../shared/unity-api/Google.Protobuf-3.9.1.api.txt.

using System;

namespace Google.Protobuf
{
    // Source: csharp/src/Google.Protobuf/FieldCodec.cs (static class FieldCodec).
    public static class FieldCodec
    {
        public static FieldCodec<T> ForEnum<T>(uint tag, Func<T, int> toInt32, Func<int, T> fromInt32)
        {
            throw new NotImplementedException();
        }

        public static FieldCodec<T> ForMessage<T>(uint tag, MessageParser<T> parser) where T : class, IMessage<T>
        {
            throw new NotImplementedException();
        }

        // Repeated string and double fields (control.proto, perf.proto): `ForString(uint tag)`,
        // `ForDouble(uint tag)` (packed doubles use the same codec).
        public static FieldCodec<string> ForString(uint tag) { throw new NotImplementedException(); }
        public static FieldCodec<double> ForDouble(uint tag) { throw new NotImplementedException(); }
    }

    // Source: csharp/src/Google.Protobuf/FieldCodec.cs (class FieldCodec<T>; generated code only
    // passes instances along, so no members are declared).
    public sealed class FieldCodec<T>
    {
        private FieldCodec() { }
    }
}
