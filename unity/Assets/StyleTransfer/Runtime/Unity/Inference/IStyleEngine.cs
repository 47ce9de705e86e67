using System;
using StyleBridge.Core;
using UnityEngine;

namespace StyleBridge.Inference
{
    /// <summary>An engine-specific model that was imported but has no worker yet.</summary>
    public interface IParsedModel
    {
        /// <summary>How to feed the model.</summary>
        ModelInputInfo Info { get; }
    }

    /// <summary>A model with its worker: runs one frame from a texture into a render texture.</summary>
    public interface IStyleModel : IDisposable
    {
        /// <summary>Which model this is (id, version, sha256).</summary>
        ModelIdentity Identity { get; }

        /// <summary>How the model is fed.</summary>
        ModelInputInfo Info { get; }

        /// <summary>
        /// Stylizes <paramref name="source"/> (any LDR texture at the inference resolution) into
        /// <paramref name="destination"/> (same size). When <paramref name="timed"/> is set the GPU
        /// queue is drained first and the run ends with a blocking download of the output, so the
        /// time is the engine's, not the scheduler's.
        /// </summary>
        EngineTimingSample Run(Texture source, RenderTexture destination, bool timed);
    }

    /// <summary>
    /// An inference package: imports ONNX bytes and creates workers. Strategies are injected
    /// (Barracuda, Sentis), never type-checked.
    /// </summary>
    public interface IStyleEngine
    {
        /// <summary>Barracuda or Sentis.</summary>
        EngineFamily Family { get; }

        /// <summary>Package version as the Hello message reports it, e.g. "3.0.0".</summary>
        string Version { get; }

        /// <summary>Worker / backend type, e.g. "ComputePrecompiled".</summary>
        string WorkerType { get; }

        /// <summary>True when pushed ONNX bytes can be imported in this build (Hello's accepts_model_push).</summary>
        bool ImportsOnnxAtRuntime { get; }

        /// <summary>
        /// Converts ONNX bytes into an engine model with the input scale applied. Main thread only:
        /// Barracuda's import schedules Burst jobs and creates workers (see ModelSwapper).
        /// </summary>
        /// <exception cref="InvalidOperationException">The engine cannot import ONNX at runtime.</exception>
        /// <exception cref="ArgumentException">The bytes are not a model this engine can run.</exception>
        IParsedModel Parse(byte[] onnx, ModelInputInfo info);

        /// <summary>Creates the worker for a parsed model; main thread only.</summary>
        IStyleModel CreateModel(IParsedModel parsed, ModelIdentity identity);
    }
}
