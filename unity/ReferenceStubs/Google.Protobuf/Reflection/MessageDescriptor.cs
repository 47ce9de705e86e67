// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses, with the signatures of the real
// library (Google.Protobuf 3.22, protocolbuffers/protobuf tag v22.x); written by hand.

namespace Google.Protobuf.Reflection
{
    // Source: csharp/src/Google.Protobuf/Reflection/MessageDescriptor.cs. The real class derives
    // from DescriptorBase; generated code only passes descriptors along.
    public sealed class MessageDescriptor
    {
        private MessageDescriptor() { }
    }
}
