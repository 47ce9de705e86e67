using System;
using StyleBridge.Core;
using Unity.Barracuda;
using Unity.Barracuda.ONNX;

namespace StyleBridge.Inference
{
    /// <summary>
    /// Barracuda as an <see cref="IStyleEngine"/>: runtime ONNX import with
    /// <c>ONNXModelConverter.Convert(byte[])</c>, the 0..1 → 0..255 input scale added to the graph
    /// (<see cref="InputScalePatch"/>), and workers from <c>WorkerFactory.CreateWorker</c> of the
    /// selected type.
    /// </summary>
    public sealed class BarracudaEngine : IStyleEngine
    {
        /// <summary>The installed Barracuda release (see <see cref="InstalledPackages"/>).</summary>
        public static string PackageVersion
        {
            get { return InstalledPackages.Barracuda; }
        }

        private readonly WorkerFactory.Type m_WorkerType;
        private readonly string m_Version;

        /// <summary>Creates the engine for one worker type.</summary>
        /// <param name="workerType">e.g. ComputePrecompiled (GPU) or CSharpBurst (CPU).</param>
        /// <param name="version">Version reported in Hello (null = <see cref="PackageVersion"/>).</param>
        public BarracudaEngine(WorkerFactory.Type workerType, string version = null)
        {
            m_WorkerType = workerType;
            m_Version = string.IsNullOrEmpty(version) ? PackageVersion : version;
        }

        /// <inheritdoc />
        public EngineFamily Family
        {
            get { return EngineFamily.Barracuda; }
        }

        /// <inheritdoc />
        public string Version
        {
            get { return m_Version; }
        }

        /// <summary>
        /// The worker type as Hello and the reports show it: the one that runs. <c>Auto</c> is labelled
        /// by what it resolves to (<c>Auto->ComputePrecompiled</c>, or <c>Auto->PixelShader</c> without
        /// compute shaders), so that the server's per-worker verdicts and timings apply to the real one.
        /// </summary>
        public string WorkerType
        {
            get
            {
                WorkerFactory.Type resolved = ResolvedType;
                return m_WorkerType == WorkerFactory.Type.Auto ? "Auto->" + resolved : resolved.ToString();
            }
        }

        /// <summary>
        /// The worker type that <c>CreateWorker</c> really makes: Barracuda 3.0's public
        /// <c>WorkerFactory.ValidateType</c> resolves Auto (to ComputePrecompiled) and falls back to
        /// PixelShader where compute shaders are unsupported (Barracuda/Runtime/Core/Backends/
        /// BarracudaBackendsFactory.cs). Main thread only (it asks the graphics device).
        /// </summary>
        public WorkerFactory.Type ResolvedType
        {
            get { return WorkerFactory.ValidateType(m_WorkerType); }
        }

        /// <summary>Barracuda's ONNX importer is part of its runtime: pushes work in built players.</summary>
        public bool ImportsOnnxAtRuntime
        {
            get { return true; }
        }

        /// <summary>
        /// How timed frames are measured on this worker type: a GPU worker ends with a blocking
        /// download of the output; a CPU worker runs to completion (Execute + download).
        /// </summary>
        public EngineTimingMethod TimingMethod
        {
            get
            {
                return WorkerFactory.IsType(ResolvedType, WorkerFactory.Device.CPU)
                    ? EngineTimingMethod.Synchronous
                    : EngineTimingMethod.BlockingReadback;
            }
        }

        /// <inheritdoc />
        public IParsedModel Parse(byte[] onnx, ModelInputInfo info)
        {
            if (onnx == null || onnx.Length == 0)
            {
                throw new ArgumentException("no ONNX bytes to import (the pushed file is empty)", "onnx");
            }
            if (info == null)
            {
                throw new ArgumentNullException("info");
            }
            Model model;
            try
            {
                // optimizeModel: fuse layers as the editor importer does; treatErrorsAsWarnings: false,
                // so an unsupported operator fails the push instead of silently becoming Identity;
                // forceArbitraryBatchSize: true, as PyTorch exports fix the batch at 1.
                model = new ONNXModelConverter(true, false, true).Convert(onnx);
            }
            catch (Exception e)
            {
                throw new ArgumentException("Barracuda could not import the ONNX file: " + e.Message
                    + " (run `stylebridge check MODEL --engine barracuda-3` for the verdict and the fix)", "onnx", e);
            }
            return new BarracudaParsedModel(InputScalePatch.Apply(model, info), info);
        }

        /// <summary>Loads a model imported in the editor (an .onnx asset) with its input range.</summary>
        public IParsedModel FromAsset(NNModel asset, ModelInputInfo info)
        {
            if (asset == null)
            {
                throw new ArgumentNullException("asset", "assign an ONNX model asset to the StyleTransfer component");
            }
            return new BarracudaParsedModel(InputScalePatch.Apply(ModelLoader.Load(asset), info), info);
        }

        /// <inheritdoc />
        public IStyleModel CreateModel(IParsedModel parsed, ModelIdentity identity)
        {
            var barracuda = parsed as BarracudaParsedModel;
            if (barracuda == null)
            {
                throw new ArgumentException("the model was not parsed by Barracuda", "parsed");
            }
            IWorker worker = WorkerFactory.CreateWorker(m_WorkerType, barracuda.Model, false);
            return new BarracudaStyleModel(worker, identity, barracuda.Info, TimingMethod, ResolvedType);
        }
    }

    /// <summary>A Barracuda <see cref="Model"/> with its input info, before it has a worker.</summary>
    internal sealed class BarracudaParsedModel : IParsedModel
    {
        public BarracudaParsedModel(Model model, ModelInputInfo info)
        {
            Model = model;
            Info = info;
        }

        public Model Model { get; }

        public ModelInputInfo Info { get; }
    }
}
