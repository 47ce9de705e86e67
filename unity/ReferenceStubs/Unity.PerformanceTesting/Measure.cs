// REFERENCE STUB - not the Performance Testing package. Declares only what the PlayMode
// performance tests call, with the signatures of com.unity.test-framework.performance 3.0
// (https://docs.unity3d.com/Packages/com.unity.test-framework.performance@3.0/api/); every body
// throws. See ../README.md.

using System;
using Unity.PerformanceTesting.Measurements;

namespace Unity.PerformanceTesting
{
    // Source: api/Unity.PerformanceTesting.PerformanceAttribute.html. The real attribute derives from
    // NUnit's CategoryAttribute and implements IOuterUnityTestAction (Unity's test runner); the stub
    // keeps only what lets `[Test, Performance]` compile.
    [AttributeUsage(AttributeTargets.Method)]
    public class PerformanceAttribute : Attribute
    {
    }

    // Source: api/Unity.PerformanceTesting.Measure.html: `public static MethodMeasurement Method(Action action)`,
    // `public static void Custom(SampleGroup sampleGroup, double value)`.
    public static class Measure
    {
        public static MethodMeasurement Method(Action action) { throw new NotImplementedException(); }
        public static void Custom(SampleGroup sampleGroup, double value) { throw new NotImplementedException(); }
    }

    // Source: api/Unity.PerformanceTesting.SampleGroup.html:
    // `public SampleGroup(string name, SampleUnit unit = SampleUnit.Millisecond, bool increaseIsBetter = false)`.
    [Serializable]
    public class SampleGroup
    {
        public SampleGroup(string name, SampleUnit unit = SampleUnit.Millisecond, bool increaseIsBetter = false) { throw new NotImplementedException(); }
    }

    // Source: api/Unity.PerformanceTesting.SampleUnit.html and manual/classes.html (Nanosecond,
    // Microsecond, Millisecond, Second, Byte, Kilobyte, Megabyte, Gigabyte).
    public enum SampleUnit
    {
        Nanosecond,
        Microsecond,
        Millisecond,
        Second,
        Byte,
        Kilobyte,
        Megabyte,
        Gigabyte,
    }
}

namespace Unity.PerformanceTesting.Measurements
{
    // Source: api/Unity.PerformanceTesting.Measurements.MethodMeasurement.html and
    // manual/measure-method.html: WarmupCount(int), MeasurementCount(int),
    // IterationsPerMeasurement(int), SampleGroup(SampleGroup), SetUp(Action), CleanUp(Action), Run().
    public class MethodMeasurement
    {
        public MethodMeasurement(Action action) { throw new NotImplementedException(); }
        public MethodMeasurement WarmupCount(int count) { throw new NotImplementedException(); }
        public MethodMeasurement MeasurementCount(int count) { throw new NotImplementedException(); }
        public MethodMeasurement IterationsPerMeasurement(int count) { throw new NotImplementedException(); }
        public MethodMeasurement SampleGroup(SampleGroup sampleGroup) { throw new NotImplementedException(); }
        public MethodMeasurement SetUp(Action action) { throw new NotImplementedException(); }
        public MethodMeasurement CleanUp(Action action) { throw new NotImplementedException(); }
        public void Run() { throw new NotImplementedException(); }
    }
}
