using System;

namespace StyleBridge.Core
{
    /// <summary>
    /// A model as both sides name it (the protocol's <c>ModelRef</c>): registry id, version and
    /// the lower-case hex sha256 of its ONNX bytes. Immutable; compared by value.
    /// </summary>
    public sealed class ModelIdentity : IEquatable<ModelIdentity>
    {
        /// <summary>No model: empty id, version 0, no digest.</summary>
        public static readonly ModelIdentity None = new ModelIdentity("", 0, "");

        /// <summary>Creates a model identity; null strings become empty.</summary>
        /// <param name="modelId">Registry name, e.g. "mosaic" ("" = none).</param>
        /// <param name="version">Monotonic version of that id (0 = unknown).</param>
        /// <param name="sha256">Lower-case hex sha256 of the ONNX bytes ("" = unknown); upper case is lowered.</param>
        public ModelIdentity(string modelId, uint version, string sha256)
        {
            ModelId = modelId ?? "";
            Version = version;
            Sha256 = (sha256 ?? "").ToLowerInvariant();
        }

        /// <summary>Registry name, e.g. "mosaic"; empty for no model.</summary>
        public string ModelId { get; }

        /// <summary>Version of <see cref="ModelId"/> in the server's registry (0 = unknown).</summary>
        public uint Version { get; }

        /// <summary>Lower-case hex sha256 of the ONNX bytes; empty when unknown.</summary>
        public string Sha256 { get; }

        /// <summary>True for <see cref="None"/> (an empty model id).</summary>
        public bool IsNone
        {
            get { return ModelId.Length == 0; }
        }

        /// <inheritdoc />
        public bool Equals(ModelIdentity other)
        {
            return other != null && ModelId == other.ModelId && Version == other.Version
                && Sha256 == other.Sha256;
        }

        /// <inheritdoc />
        public override bool Equals(object obj)
        {
            return Equals(obj as ModelIdentity);
        }

        /// <inheritdoc />
        public override int GetHashCode()
        {
            unchecked
            {
                return (ModelId.GetHashCode() * 397) ^ (int)Version ^ (Sha256.GetHashCode() * 31);
            }
        }

        /// <summary>"id v3" (or "(none)"), for logs and the editor window.</summary>
        public override string ToString()
        {
            return IsNone ? "(none)" : ModelId + " v" + Version;
        }
    }
}
