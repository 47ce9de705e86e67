// REFERENCE STUB - not UnityEngine. Declares only what the StyleBridge package calls, with the
// signatures of Unity 2021.3 (UnityEngine.CoreModule); every body throws. See ../README.md.

using System;

namespace UnityEngine
{
    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Object.html
    // (the real class also has instance ids, Instantiate, operator bool, ...; left out).
    public class Object
    {
        public string name { get { throw new NotImplementedException(); } set { throw new NotImplementedException(); } }
        public static void Destroy(Object obj) { throw new NotImplementedException(); }
        public static T FindObjectOfType<T>() where T : Object { throw new NotImplementedException(); }
        public static bool operator ==(Object x, Object y) { throw new NotImplementedException(); }
        public static bool operator !=(Object x, Object y) { throw new NotImplementedException(); }
        public override bool Equals(object other) { throw new NotImplementedException(); }
        public override int GetHashCode() { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Component.html
    public class Component : Object
    {
        public GameObject gameObject { get { throw new NotImplementedException(); } }
        public Transform transform { get { throw new NotImplementedException(); } }
        public T GetComponent<T>() { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Behaviour.html
    public class Behaviour : Component
    {
        public bool enabled { get { throw new NotImplementedException(); } set { throw new NotImplementedException(); } }
        public bool isActiveAndEnabled { get { throw new NotImplementedException(); } }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/MonoBehaviour.html
    // (message methods such as Update/OnEnable are found by name, so they need no declaration).
    public class MonoBehaviour : Behaviour
    {
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/GameObject.html
    public sealed class GameObject : Object
    {
        public GameObject(string name) { throw new NotImplementedException(); }
        public T AddComponent<T>() where T : Component { throw new NotImplementedException(); }
        public Transform transform { get { throw new NotImplementedException(); } }
        public static GameObject CreatePrimitive(PrimitiveType type) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/PrimitiveType.html
    public enum PrimitiveType
    {
        Sphere = 0,
        Capsule = 1,
        Cylinder = 2,
        Cube = 3,
        Plane = 4,
        Quad = 5,
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Transform.html
    // (position; `Rotate(float xAngle, float yAngle, float zAngle)`; IEnumerable left out).
    public class Transform : Component
    {
        public Vector3 position { get { throw new NotImplementedException(); } set { throw new NotImplementedException(); } }
        public void Rotate(float xAngle, float yAngle, float zAngle) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Vector3.html
    // (constructor Vector3(float x, float y, float z) and operator +).
    public struct Vector3
    {
        public float x;
        public float y;
        public float z;
        public Vector3(float x, float y, float z) { throw new NotImplementedException(); }
        public static Vector3 operator +(Vector3 a, Vector3 b) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/ScriptableObject.html
    public class ScriptableObject : Object
    {
    }
}
