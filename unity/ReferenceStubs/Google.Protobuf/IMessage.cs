// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses with GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE,
// as Google.Protobuf 3.9.1 has them (Barracuda's copy; protocolbuffers/protobuf tag v3.9.1); written by
// hand and checked line by line against ../shared/unity-api/Google.Protobuf-3.9.1.api.txt.

using System;
using Google.Protobuf.Reflection;

namespace Google.Protobuf
{
    // Source: csharp/src/Google.Protobuf/IMessage.cs (interface IMessage).
    public interface IMessage
    {
        void MergeFrom(CodedInputStream input);
        void WriteTo(CodedOutputStream output);
        int CalculateSize();
        MessageDescriptor Descriptor { get; }
    }

    // Source: csharp/src/Google.Protobuf/IMessage.cs (interface IMessage<T>).
    public interface IMessage<T> : IMessage, IEquatable<T>, IDeepCloneable<T> where T : IMessage<T>
    {
        void MergeFrom(T message);
    }
}
