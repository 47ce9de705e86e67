using System;
using System.IO;
using NUnit.Framework;

namespace StyleBridge.Tests.EditMode
{
    /// <summary>
    /// Finds the shared vector files (tests/vectors/*.json at the repository root).
    /// <para>
    /// Order: (1) the folder in the environment variable <c>STYLEBRIDGE_VECTORS</c> (set by
    /// tools/unity_check.sh; a missing file there fails the test); (2) <c>tests/vectors</c> in the
    /// current directory or any folder above it — in the Unity editor the current directory is the
    /// project folder (<c>unity/</c> in this repository), so <c>../tests/vectors</c> is found;
    /// (3) otherwise (the package installed into another project) the vector tests are ignored,
    /// with a message saying how to point them at the files.
    /// </para>
    /// </summary>
    public static class Vectors
    {
        /// <summary>The environment variable naming the vectors folder.</summary>
        public const string EnvironmentVariable = "STYLEBRIDGE_VECTORS";

        /// <summary>The parsed JSON of vector file <paramref name="fileName"/>.</summary>
        public static object Load(string fileName)
        {
            return MiniJson.Parse(File.ReadAllText(Find(fileName)));
        }

        /// <summary>The path of vector file <paramref name="fileName"/> (see the class notes).</summary>
        public static string Find(string fileName)
        {
            string configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrEmpty(configured))
            {
                string path = Path.Combine(configured, fileName);
                if (!File.Exists(path))
                {
                    Assert.Fail(EnvironmentVariable + "=" + configured + " but " + path
                        + " does not exist; point it at the repository's tests/vectors folder");
                }
                return path;
            }
            for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(Path.Combine(Path.Combine(dir.FullName, "tests"), "vectors"), fileName);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
            Assert.Ignore("shared vector file " + fileName + " not found above " + Directory.GetCurrentDirectory()
                + "; set " + EnvironmentVariable + " to the StyleBridge repository's tests/vectors folder");
            return null;
        }
    }
}
