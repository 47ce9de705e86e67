// REFERENCE STUB - not the Google.Protobuf runtime. It exists only so that `mcs` can
// type-check the generated C# (tools/unity_check.sh); every body throws. In Unity the real
// Google.Protobuf.dll is used instead (see unity/ReferenceStubs/README.md).
// Declares only the members the protoc 22 C# output uses with GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE,
// as Google.Protobuf 3.9.1 has them (Barracuda's copy; protocolbuffers/protobuf tag v3.9.1); written by
// hand and checked line by line against ../shared/unity-api/Google.Protobuf-3.9.1.api.txt.

using System;
using System.Collections;
using System.Collections.Generic;

namespace Google.Protobuf.Collections
{
    // Source: csharp/src/Google.Protobuf/Collections/RepeatedField.cs. The real class declares
    // IList<T>, IList, IReadOnlyList<T>, IDeepCloneable<RepeatedField<T>> and
    // IEquatable<RepeatedField<T>>. Generated code needs only the IEnumerable<T> part of
    // IList<T> (MergeFrom calls Add(IEnumerable<T>) with another RepeatedField), so the stub
    // declares IEnumerable<T>; code that uses the list members must widen it to IList<T>.
    public sealed class RepeatedField<T> : IEnumerable<T>, IDeepCloneable<RepeatedField<T>>, IEquatable<RepeatedField<T>>
    {
        public RepeatedField() { }

        public RepeatedField<T> Clone() { throw new NotImplementedException(); }
        public void AddEntriesFrom(CodedInputStream input, FieldCodec<T> codec) { throw new NotImplementedException(); }
        public int CalculateSize(FieldCodec<T> codec) { throw new NotImplementedException(); }
        public void WriteTo(CodedOutputStream output, FieldCodec<T> codec) { throw new NotImplementedException(); }
        public void Add(T item) { throw new NotImplementedException(); }
        public void Add(IEnumerable<T> values) { throw new NotImplementedException(); }
        public IEnumerator<T> GetEnumerator() { throw new NotImplementedException(); }
        IEnumerator IEnumerable.GetEnumerator() { throw new NotImplementedException(); }
        public override bool Equals(object obj) { throw new NotImplementedException(); }
        public override int GetHashCode() { throw new NotImplementedException(); }
        public bool Equals(RepeatedField<T> other) { throw new NotImplementedException(); }
    }
}
