// REFERENCE STUB - not UnityEngine: cameras, textures, blits and GPU readback as the package uses
// them (Unity 2021.3). See ../README.md.

using System;
using Unity.Collections;

namespace UnityEngine
{
    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Camera.html
    // (OnRenderImage is a MonoBehaviour message of the built-in pipeline, found by name).
    public sealed class Camera : Behaviour
    {
        public int pixelWidth { get { throw new NotImplementedException(); } }
        public int pixelHeight { get { throw new NotImplementedException(); } }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Texture.html
    public class Texture : Object
    {
        public virtual int width { get { throw new NotImplementedException(); } set { throw new NotImplementedException(); } }
        public virtual int height { get { throw new NotImplementedException(); } set { throw new NotImplementedException(); } }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Texture3D.html
    // (only named as the type of an optional parameter of Barracuda's Tensor.ToRenderTexture).
    public sealed class Texture3D : Texture
    {
        private Texture3D() { }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/RenderTexture-ctor.html
    // (`RenderTexture(int width, int height, int depth, RenderTextureFormat format, RenderTextureReadWrite readWrite)`)
    // and RenderTexture.html (Create, Release, IsCreated, enableRandomWrite).
    public class RenderTexture : Texture
    {
        public RenderTexture(int width, int height, int depth, RenderTextureFormat format) { throw new NotImplementedException(); }
        public RenderTexture(int width, int height, int depth, RenderTextureFormat format, RenderTextureReadWrite readWrite) { throw new NotImplementedException(); }
        public bool enableRandomWrite { get { throw new NotImplementedException(); } set { throw new NotImplementedException(); } }
        public bool Create() { throw new NotImplementedException(); }
        public void Release() { throw new NotImplementedException(); }
        public bool IsCreated() { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/RenderTextureFormat.html
    // (values as in the real enum for the members declared).
    public enum RenderTextureFormat
    {
        ARGB32 = 0,
        ARGBHalf = 2,
        ARGBFloat = 11,
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/RenderTextureReadWrite.html
    // (Default: sRGB in a Linear-space project; Linear: no conversion; values as in the real enum).
    public enum RenderTextureReadWrite
    {
        Default = 0,
        Linear = 1,
        sRGB = 2,
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Texture2D-ctor.html
    // (`Texture2D(int width, int height, TextureFormat textureFormat, bool mipChain, bool linear)`),
    // Texture2D.LoadRawTextureData.html (`LoadRawTextureData(byte[] data)`) and Texture2D.Apply.html
    // (`Apply(bool updateMipmaps = true, bool makeNoLongerReadable = false)`).
    public sealed class Texture2D : Texture
    {
        public Texture2D(int width, int height, TextureFormat textureFormat, bool mipChain, bool linear) { throw new NotImplementedException(); }
        public void LoadRawTextureData(byte[] data) { throw new NotImplementedException(); }
        public void Apply(bool updateMipmaps = true, bool makeNoLongerReadable = false) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/TextureFormat.html
    public enum TextureFormat
    {
        RGB24 = 3,
        RGBA32 = 4,
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Graphics.Blit.html
    // (overload `Blit(Texture source, RenderTexture dest)`).
    public sealed class Graphics
    {
        public static void Blit(Texture source, RenderTexture dest) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Vector4.html
    public struct Vector4
    {
        public float x;
        public float y;
        public float z;
        public float w;
        public Vector4(float x, float y, float z, float w) { throw new NotImplementedException(); }
        public static Vector4 zero { get { throw new NotImplementedException(); } }
        public static Vector4 one { get { throw new NotImplementedException(); } }
    }
}

namespace UnityEngine.Rendering
{
    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Rendering.AsyncGPUReadback.Request.html
    // (overload `Request(Texture src, int mipIndex, TextureFormat dstFormat,
    // Action<AsyncGPUReadbackRequest> callback)`; the same list is on CommandBuffer.RequestAsyncReadback).
    public static class AsyncGPUReadback
    {
        public static AsyncGPUReadbackRequest Request(Texture src, int mipIndex, TextureFormat dstFormat,
            Action<AsyncGPUReadbackRequest> callback) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Rendering.AsyncGPUReadbackRequest.html
    // (done, hasError, width, height are properties; GetData<T>(int layer = 0) returns NativeArray<T>).
    public struct AsyncGPUReadbackRequest
    {
        public bool done { get { throw new NotImplementedException(); } }
        public bool hasError { get { throw new NotImplementedException(); } }
        public int width { get { throw new NotImplementedException(); } }
        public int height { get { throw new NotImplementedException(); } }
        public NativeArray<T> GetData<T>(int layer = 0) where T : struct { throw new NotImplementedException(); }
    }
}

namespace Unity.Collections
{
    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Unity.Collections.NativeArray_1.html
    // (the real struct also implements IDisposable, IEnumerable<T> and IEquatable; not needed here).
    public struct NativeArray<T> where T : struct
    {
        public int Length { get { throw new NotImplementedException(); } }
        public void CopyTo(T[] array) { throw new NotImplementedException(); }
        public T[] ToArray() { throw new NotImplementedException(); }
    }
}
