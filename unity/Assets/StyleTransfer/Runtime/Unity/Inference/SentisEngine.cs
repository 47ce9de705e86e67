#if STYLEBRIDGE_SENTIS
using System;
using System.Diagnostics;
using StyleBridge.Core;
using Unity.Sentis;
using UnityEngine;

namespace StyleBridge.Inference
{
    /// <summary>
    /// Sentis (com.unity.sentis 1.5 to 1.x) as an <see cref="IStyleEngine"/>, compiled only when the
    /// package is installed (the asmdef's versionDefines set STYLEBRIDGE_SENTIS). From Sentis 1.5 on the
    /// ONNX importer is editor-only, so a built player cannot import pushed ONNX files: this engine runs
    /// the model asset imported in the editor, reports accepts_model_push = false in Hello, and answers
    /// any push with a rollback that says so. Sentis has no texture-to-tensor scale, so models must be
    /// exported with the 0..255 scale built in (metadata input_range = 1).
    /// </summary>
    public sealed class SentisEngine : IStyleEngine
    {
        private readonly ModelAsset m_Asset;
        private readonly BackendType m_Backend;

        /// <summary>Creates the engine for a model asset and a backend.</summary>
        public SentisEngine(ModelAsset asset, BackendType backend)
        {
            m_Asset = asset;
            m_Backend = backend;
        }

        public EngineFamily Family
        {
            get { return EngineFamily.Sentis; }
        }

        public string Version
        {
            get { return InstalledPackages.Sentis; }
        }

        public string WorkerType
        {
            get { return m_Backend.ToString(); }
        }

        /// <summary>False: Sentis 1.5+ imports ONNX in the editor only.</summary>
        public bool ImportsOnnxAtRuntime
        {
            get { return false; }
        }

        public IParsedModel Parse(byte[] onnx, ModelInputInfo info)
        {
            throw new InvalidOperationException(
                "Sentis 1.5+ imports ONNX in the editor only: add the model to the project instead of pushing it");
        }

        public IStyleModel CreateModel(IParsedModel parsed, ModelIdentity identity)
        {
            throw new InvalidOperationException("the Sentis backend runs only its model asset (no runtime import)");
        }

        /// <summary>Creates the worker for the model asset.</summary>
        /// <exception cref="ArgumentException">No asset, or a model that expects 0..255 input.</exception>
        public IStyleModel CreateFromAsset(ModelIdentity identity, ModelInputInfo info)
        {
            if (m_Asset == null)
            {
                throw new ArgumentException("assign a Sentis model asset to the StyleTransfer component", "info");
            }
            if (InputScaling.TextureToModelScale(info.InputRange) != 1f)
            {
                throw new ArgumentException("the Sentis backend needs a model exported with the 0..255 scale "
                    + "built in (input_range 1); this one expects 0..255 input", "info");
            }
            IWorker worker = WorkerFactory.CreateWorker(m_Backend, ModelLoader.Load(m_Asset));
            var method = m_Backend == BackendType.CPU ? EngineTimingMethod.Synchronous : EngineTimingMethod.BlockingReadback;
            return new SentisStyleModel(worker, identity, info, method);
        }
    }

    /// <summary>One Sentis worker; disposes it and every tensor it creates.</summary>
    internal sealed class SentisStyleModel : IStyleModel
    {
        private readonly Stopwatch m_Watch = new Stopwatch();
        private readonly EngineTimingMethod m_Method;
        private IWorker m_Worker;

        public SentisStyleModel(IWorker worker, ModelIdentity identity, ModelInputInfo info, EngineTimingMethod method)
        {
            m_Worker = worker;
            Identity = identity;
            Info = info;
            m_Method = method;
        }

        public ModelIdentity Identity { get; }

        public ModelInputInfo Info { get; }

        public EngineTimingSample Run(Texture source, RenderTexture destination, bool timed)
        {
            if (m_Worker == null)
            {
                throw new ObjectDisposedException("SentisStyleModel");
            }
            using (TensorFloat input = TextureConverter.ToTensor(source, source.width, source.height, 3))
            {
                if (timed)
                {
                    input.CompleteOperationsAndDownload(); // drain pending GPU work first
                    m_Watch.Reset();
                    m_Watch.Start();
                }
                var output = m_Worker.Execute(input).PeekOutput() as TensorFloat;
                if (output == null)
                {
                    throw new InvalidOperationException("the model's output is not a float tensor");
                }
                double ms = 0;
                if (timed)
                {
                    output.CompleteOperationsAndDownload();
                    m_Watch.Stop();
                    ms = m_Watch.Elapsed.TotalMilliseconds;
                }
                TextureConverter.RenderToTexture(output, destination);
                return timed ? new EngineTimingSample(ms, m_Method) : EngineTimingSample.NotMeasured;
            }
        }

        public void Dispose()
        {
            if (m_Worker != null)
            {
                m_Worker.Dispose();
                m_Worker = null;
            }
        }
    }
}
#endif
