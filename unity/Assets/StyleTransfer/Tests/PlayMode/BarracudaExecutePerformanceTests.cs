using System;
using System.Collections.Generic;
using System.IO;
using NUnit.Framework;
using StyleBridge.Core;
using StyleBridge.Inference;
using Unity.Barracuda;
using Unity.PerformanceTesting;
using UnityEngine;
using Object = UnityEngine.Object;

namespace StyleBridge.Tests
{
    /// <summary>
    /// PlayMode performance tests (com.unity.test-framework.performance): Barracuda inference of each
    /// catalog model at the perf-test resolutions, per worker type. Two sample groups per case:
    /// "Engine ms" (the honest engine time: GPU queue drained, Execute, blocking download of the output,
    /// as StyleTransfer reports it) and "Frame ms" (Measure.Method around the whole frame: texture to
    /// tensor, inference, readback, tensor to texture). Models come from
    /// StreamingAssets/StyleBridge/*.onnx or the folder in STYLEBRIDGE_MODELS; a missing model is ignored
    /// with a message, not failed.
    /// </summary>
    public sealed class BarracudaExecutePerformanceTests
    {
        private const int WarmupFrames = 5;
        private const int MeasuredFrames = 30;

        private static readonly string[] s_Models = { "mosaic", "candy", "ingame-small" };
        private static readonly int[][] s_Resolutions = { new[] { 640, 360 }, new[] { 960, 540 }, new[] { 1280, 720 } };
        private static readonly WorkerFactory.Type[] s_Workers =
        {
            WorkerFactory.Type.ComputePrecompiled,
            WorkerFactory.Type.CSharpBurst,
        };

        /// <summary>Every model x resolution x worker type.</summary>
        public static IEnumerable<object[]> Cases()
        {
            foreach (string model in s_Models)
            {
                foreach (int[] size in s_Resolutions)
                {
                    foreach (WorkerFactory.Type worker in s_Workers)
                    {
                        yield return new object[] { model, size[0], size[1], worker };
                    }
                }
            }
        }

        [Test, Performance]
        [TestCaseSource("Cases")]
        public void BarracudaInference(string modelId, int width, int height, WorkerFactory.Type workerType)
        {
            string path = ModelPath(modelId);
            if (!File.Exists(path))
            {
                Assert.Ignore("model " + modelId + " not found at " + path
                    + "; copy the catalog's .onnx files to StreamingAssets/StyleBridge or set STYLEBRIDGE_MODELS");
            }
            var engine = new BarracudaEngine(workerType);
            var info = new ModelInputInfo("", "", ModelInputInfo.DefaultInputRange, width, height);
            IStyleModel model = engine.CreateModel(engine.Parse(File.ReadAllBytes(path), info),
                new ModelIdentity(modelId, 0, ""));
            RenderTexture input = NewTexture(width, height, false);
            RenderTexture output = NewTexture(width, height, true);
            try
            {
                var engineGroup = new SampleGroup("Engine ms (" + engine.TimingMethod + ")");
                for (int i = 0; i < WarmupFrames; i++)
                {
                    model.Run(input, output, true);
                }
                for (int i = 0; i < MeasuredFrames; i++)
                {
                    EngineTimingSample sample = model.Run(input, output, true);
                    Assert.That(sample.Measured, "a timed run must report its timing method");
                    Measure.Custom(engineGroup, sample.Milliseconds);
                }
                Measure.Method(() => model.Run(input, output, true))
                    .SampleGroup(new SampleGroup("Frame ms"))
                    .WarmupCount(WarmupFrames)
                    .MeasurementCount(MeasuredFrames)
                    .IterationsPerMeasurement(1)
                    .Run();
            }
            finally
            {
                model.Dispose();
                Release(input);
                Release(output);
            }
        }

        private static string ModelPath(string modelId)
        {
            string folder = Environment.GetEnvironmentVariable("STYLEBRIDGE_MODELS");
            if (string.IsNullOrEmpty(folder))
            {
                folder = Path.Combine(Application.streamingAssetsPath, "StyleBridge");
            }
            return Path.Combine(folder, modelId + ".onnx");
        }

        private static RenderTexture NewTexture(int width, int height, bool randomWrite)
        {
            var texture = new RenderTexture(width, height, 0, RenderTextureFormat.ARGB32);
            texture.enableRandomWrite = randomWrite;
            texture.Create();
            return texture;
        }

        private static void Release(RenderTexture texture)
        {
            texture.Release();
            Object.Destroy(texture);
        }
    }
}
