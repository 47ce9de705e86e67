// REFERENCE STUB - not UnityEngine; attributes the package uses (Unity 2021.3). See ../README.md.

using System;

namespace UnityEngine
{
    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/SerializeField.html
    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SerializeField : Attribute
    {
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/RequireComponent.html
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
    public sealed class RequireComponent : Attribute
    {
        public RequireComponent(Type requiredComponent) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/DisallowMultipleComponent.html
    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DisallowMultipleComponent : Attribute
    {
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/AddComponentMenu.html
    public sealed class AddComponentMenu : Attribute
    {
        public AddComponentMenu(string menuName) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/PropertyAttribute.html
    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public abstract class PropertyAttribute : Attribute
    {
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/TooltipAttribute.html
    public class TooltipAttribute : PropertyAttribute
    {
        public TooltipAttribute(string tooltip) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/HeaderAttribute.html
    public class HeaderAttribute : PropertyAttribute
    {
        public HeaderAttribute(string header) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/RangeAttribute.html
    public sealed class RangeAttribute : PropertyAttribute
    {
        public RangeAttribute(float min, float max) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/MinAttribute.html
    public sealed class MinAttribute : PropertyAttribute
    {
        public MinAttribute(float min) { throw new NotImplementedException(); }
    }
}
