#if STYLEBRIDGE_MLAGENTS
using System;
using System.Diagnostics;
using System.IO;
using System.Security.Cryptography;
using StyleBridge.Bridge;
using StyleBridge.Core;
using StyleBridge.Inference;
using StyleBridge.Protocol.V1;
using Unity.Barracuda;
using Unity.MLAgents;
using Unity.Collections;
using Unity.MLAgents.SideChannels;
using UnityEngine;
using UnityEngine.Rendering;
using Debug = UnityEngine.Debug;

namespace StyleBridge.Perf
{
    /// <summary>
    /// The player side of <c>stylebridge perf-test</c> (issue 5): registers <see cref="PerfSideChannel"/>,
    /// answers RESET with the player info, and runs each <c>PerfRunCase</c> one inference per academy step
    /// (warm-up frames, then measured frames, each timed with a blocking readback), answering with a
    /// <c>PerfCaseResult</c> that says which engine, worker type and timing method produced it.
    /// ML-Agents only exchanges messages while an agent requests decisions: the scene needs one Agent
    /// with a Decision Requester (period 1), see the README.
    /// <para>
    /// Everything runs from <c>Academy.AgentPreStep</c>, not <c>Update</c>: ML-Agents steps the academy in
    /// FixedUpdate, so several steps can pass in one rendered frame (a slow frame, a time scale above 1),
    /// and the harness budgets one frame per step (warm-up + measured + 20 steps). One inference per step
    /// keeps that contract at any frame rate; the stand-in player's <c>--steps-per-frame</c> test pins it.
    /// </para>
    /// </summary>
    [DisallowMultipleComponent]
    [AddComponentMenu("StyleBridge/Perf Test Runner")]
    public sealed class PerfRunner : MonoBehaviour
    {
        [Tooltip("The StyleTransfer whose camera frames feed the cases (optional: blank frames without it).")]
        [SerializeField] private StyleTransfer m_Source;

        [Tooltip("Worker type when a case does not name one.")]
        [SerializeField] private WorkerFactory.Type m_DefaultWorkerType = WorkerFactory.Type.ComputePrecompiled;

        private PerfSideChannel m_Channel;
        private CaseRun m_Case;

        private void OnEnable()
        {
            m_Channel = new PerfSideChannel();
            SideChannelManager.RegisterSideChannel(m_Channel);
            Academy.Instance.OnEnvironmentReset += OnReset;
            Academy.Instance.AgentPreStep += OnAcademyStep;
        }

        private void OnDisable()
        {
            if (Academy.IsInitialized)
            {
                Academy.Instance.OnEnvironmentReset -= OnReset;
                Academy.Instance.AgentPreStep -= OnAcademyStep;
            }
            SideChannelManager.UnregisterSideChannel(m_Channel);
            EndCase();
        }

        private void OnReset()
        {
            var info = new PerfPlayerInfo
            {
                EngineKind = EngineKind.Barracuda,
                Engine = "barracuda " + BarracudaEngine.PackageVersion,
                EngineVersion = BarracudaEngine.PackageVersion,
                UnityVersion = Application.unityVersion,
                Gpu = SystemInfo.graphicsDeviceName,
                Platform = Application.platform.ToString(),
                PlayerName = "StyleBridge Unity player",
            };
            info.WorkerTypes.Add(Enum.GetNames(typeof(WorkerFactory.Type)));
            m_Channel.Send(new PerfFromPlayer { PlayerInfo = info });
        }

        /// <summary>One academy step: the side channel's messages, then at most one frame of the case.</summary>
        private void OnAcademyStep(int academyStepCount)
        {
            PerfToPlayer message;
            while (m_Channel != null && m_Channel.TryTake(out message))
            {
                if (message.BodyCase == PerfToPlayer.BodyOneofCase.Finish)
                {
                    EndCase();
                }
                else if (message.BodyCase == PerfToPlayer.BodyOneofCase.RunCase)
                {
                    StartCase(message.RunCase);
                }
            }
            if (m_Case != null)
            {
                if (!m_Case.Progress.AllFramesRan)
                {
                    Step();
                }
                else if (m_Case.Progress.ReadyToReport(m_Case.ParityPending))
                {
                    Finish(m_Case, ""); // the parity readbacks have arrived
                }
            }
        }

        private void StartCase(PerfRunCase request)
        {
            EndCase();
            var run = new CaseRun(request);
            try
            {
                // Throws for a case without measured frames: answered with an error like any bad case.
                run.Progress = new PerfCaseProgress((int)request.WarmupFrames, (int)request.MeasuredFrames,
                    request.SendParity);
                byte[] bytes = File.ReadAllBytes(ResolvePath(request));
                string sha = Sha256Hex(bytes);
                if (request.Model != null && request.Model.Sha256.Length > 0 && request.Model.Sha256 != sha)
                {
                    throw new InvalidOperationException("model " + request.Model.ModelId + ": file sha256 "
                        + sha.Substring(0, 12) + " differs from the plan's " + request.Model.Sha256.Substring(0, 12)
                        + "; the file changed while the test ran");
                }
                run.Engine = new BarracudaEngine(ParseWorkerType(request.WorkerType));
                // input_range 0 means the plan did not say: TransformerNet exports take 0..255.
                float range = request.InputRange > 0 ? request.InputRange : ModelInputInfo.DefaultInputRange;
                var info = new ModelInputInfo("", "", range, (int)request.Width,
                    (int)request.Height);
                var watch = Stopwatch.StartNew();
                run.Model = run.Engine.CreateModel(run.Engine.Parse(bytes, info),
                    new ModelIdentity(request.Model != null ? request.Model.ModelId : "", 0, sha));
                watch.Stop();
                run.LoadMs = watch.Elapsed.TotalMilliseconds;
                run.Input = NewTarget((int)request.Width, (int)request.Height, false);
                run.Output = NewTarget((int)request.Width, (int)request.Height, true);
                m_Case = run;
            }
            catch (Exception e)
            {
                run.Dispose();
                Debug.LogWarning("StyleBridge perf: case " + request.CaseId + " failed: " + e.Message);
                m_Channel.Send(new PerfFromPlayer { CaseResult = Result(run, e.Message) });
            }
        }

        private void Step()
        {
            CaseRun run = m_Case;
            RenderTexture camera = m_Source != null ? m_Source.InputTexture : null;
            if (camera != null)
            {
                Graphics.Blit(camera, run.Input);
            }
            try
            {
                EngineTimingSample timing = run.Model.Run(run.Input, run.Output, true);
                PerfFrameKind kind = run.Progress.FrameRan();
                if (kind != PerfFrameKind.Warmup)
                {
                    run.EngineMs.Add(timing.Milliseconds);
                    run.Method = timing.Method;
                }
                if (kind == PerfFrameKind.MeasuredWithParity)
                {
                    RequestParity(run);
                }
            }
            catch (Exception e)
            {
                Finish(run, "inference failed: " + e.Message);
                return;
            }
            if (run.Progress.ReadyToReport(run.ParityPending))
            {
                Finish(run, "");
            }
        }

        private void Finish(CaseRun run, string error)
        {
            m_Case = null;
            m_Channel.Send(new PerfFromPlayer { CaseResult = Result(run, error) });
            run.Dispose();
        }

        /// <summary>Reads back this frame's input and output (asynchronously) for the parity check.</summary>
        private static void RequestParity(CaseRun run)
        {
            if (!SystemInfo.supportsAsyncGPUReadback)
            {
                return; // no parity images; the result says nothing about parity
            }
            run.ParityPending = 2;
            AsyncGPUReadback.Request(run.Input, 0, TextureFormat.RGBA32, request =>
            {
                run.ParityInput = ParityImage(request);
                run.ParityPending--;
            });
            AsyncGPUReadback.Request(run.Output, 0, TextureFormat.RGBA32, request =>
            {
                run.ParityOutput = ParityImage(request);
                run.ParityPending--;
            });
        }

        private static Image ParityImage(AsyncGPUReadbackRequest request)
        {
            if (request.hasError)
            {
                return null;
            }
            NativeArray<byte> data = request.GetData<byte>();
            var rgba = new byte[data.Length];
            data.CopyTo(rgba);
            return ProtoConvert.ToImage(rgba, request.width, request.height, WirePixelFormat.Rgb8);
        }

        private PerfCaseResult Result(CaseRun run, string error)
        {
            PerfRunCase request = run.Request;
            var result = new PerfCaseResult
            {
                CaseId = request.CaseId,
                Model = request.Model,
                Width = request.Width,
                Height = request.Height,
                Engine = "barracuda " + BarracudaEngine.PackageVersion,
                WorkerType = run.Engine != null ? run.Engine.WorkerType : "",
                TimingMethod = (TimingMethod)(int)run.Method,
                WarmupFrames = request.WarmupFrames,
                LoadMs = run.LoadMs,
                MemoryBytes = (ulong)Math.Max(0, UnityEngine.Profiling.Profiler.GetTotalAllocatedMemoryLong()),
                MemoryKind = "Profiler.GetTotalAllocatedMemoryLong",
                Config = new PerfEngineConfig
                {
                    Width = (uint)Screen.width,
                    Height = (uint)Screen.height,
                    QualityLevel = QualitySettings.GetQualityLevel(),
                    TimeScale = Time.timeScale,
                    TargetFrameRate = Application.targetFrameRate,
                },
                FramesSource = m_Source != null ? "scene camera" : "blank",
                Error = error ?? "",
            };
            result.EngineMs.Add(run.EngineMs);
            if (run.ParityInput != null && run.ParityOutput != null)
            {
                result.ParityInput = run.ParityInput;
                result.ParityOutput = run.ParityOutput;
            }
            return result;
        }

        private WorkerFactory.Type ParseWorkerType(string name)
        {
            if (string.IsNullOrEmpty(name))
            {
                return m_DefaultWorkerType;
            }
            try
            {
                return (WorkerFactory.Type)Enum.Parse(typeof(WorkerFactory.Type), name, true);
            }
            catch (ArgumentException)
            {
                throw new ArgumentException("unknown Barracuda worker type '" + name + "'; use one of "
                    + string.Join(", ", Enum.GetNames(typeof(WorkerFactory.Type))));
            }
        }

        private static string ResolvePath(PerfRunCase request)
        {
            if (request.ModelPath.Length > 0)
            {
                return request.ModelPath;
            }
            string id = request.Model != null ? request.Model.ModelId : "";
            string path = Path.Combine(Application.streamingAssetsPath, id + ".onnx");
            if (id.Length == 0 || !File.Exists(path))
            {
                throw new FileNotFoundException("model '" + id + "' has no model_path and is not in StreamingAssets ("
                    + path + "); give the plan a path on the player's machine or bundle the file", path);
            }
            return path;
        }

        private static string Sha256Hex(byte[] bytes)
        {
            using (SHA256 sha = SHA256.Create())
            {
                return Hex.Encode(sha.ComputeHash(bytes));
            }
        }

        private static RenderTexture NewTarget(int width, int height, bool randomWrite)
        {
            return StyleTextures.Create(width, height, randomWrite);
        }

        private void EndCase()
        {
            if (m_Case != null)
            {
                m_Case.Dispose();
                m_Case = null;
            }
        }

        /// <summary>One case in progress: its model, targets and the times measured so far.</summary>
        private sealed class CaseRun : IDisposable
        {
            public CaseRun(PerfRunCase request)
            {
                Request = request;
            }

            public PerfRunCase Request { get; }
            public PerfCaseProgress Progress;
            public BarracudaEngine Engine;
            public IStyleModel Model;
            public RenderTexture Input;
            public RenderTexture Output;
            public double LoadMs;
            public int ParityPending;
            public Image ParityInput;
            public Image ParityOutput;
            public EngineTimingMethod Method = EngineTimingMethod.BlockingReadback;
            public readonly System.Collections.Generic.List<double> EngineMs = new System.Collections.Generic.List<double>();

            public void Dispose()
            {
                if (Model != null)
                {
                    Model.Dispose();
                    Model = null;
                }
                Release(ref Input);
                Release(ref Output);
            }

            private static void Release(ref RenderTexture texture)
            {
                if (texture != null)
                {
                    texture.Release();
                    UnityEngine.Object.Destroy(texture);
                    texture = null;
                }
            }
        }
    }
}
#endif
