// Writes the public (and protected) API of .NET assemblies, one line per type or member, in the
// format of /work/shared/unity-api (`Namespace.Type :: member`; see that folder's README). Used by
// tools/check_stub_api.py to prove that the reference stubs declare nothing the real assemblies
// lack. Compiled and run with Mono by that script; never part of the Unity package.
//
// Usage: mono ApiDump.exe OUT.txt ASSEMBLY.dll [SEARCH_DIR ...]

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;

public static class ApiDump
{
    const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance
        | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static int Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: ApiDump.exe OUT.txt ASSEMBLY.dll [SEARCH_DIR ...]");
            return 2;
        }
        var dirs = new List<string> { Path.GetDirectoryName(Path.GetFullPath(args[1])) };
        dirs.AddRange(args.Skip(2));
        AppDomain.CurrentDomain.AssemblyResolve += (sender, e) =>
        {
            var name = new AssemblyName(e.Name).Name + ".dll";
            foreach (var dir in dirs)
            {
                var path = Path.Combine(dir, name);
                if (File.Exists(path)) return Assembly.LoadFrom(path);
            }
            return null;
        };
        var assembly = Assembly.LoadFrom(args[1]);
        var lines = new List<string>();
        foreach (var type in assembly.GetTypes().Where(Visible))
        {
            var owner = Name(type);
            lines.Add(owner + " :: " + TypeLine(type));
            foreach (var line in Members(type)) lines.Add(owner + " :: " + line);
        }
        lines.Sort(StringComparer.Ordinal);
        File.WriteAllLines(args[0], lines, new UTF8Encoding(false));
        return 0;
    }

    static bool Visible(Type type)
    {
        for (var t = type; t != null; t = t.DeclaringType)
        {
            if (t.IsNested ? !(t.IsNestedPublic || t.IsNestedFamily || t.IsNestedFamORAssem) : !t.IsPublic)
                return false;
        }
        return true;
    }

    static bool Visible(MethodBase m)
    {
        return m != null && (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly);
    }

    static string TypeLine(Type type)
    {
        string kind;
        if (type.IsEnum) kind = "enum";
        else if (type.IsValueType) kind = "struct";
        else if (type.IsInterface) kind = "interface";
        else kind = "class : " + Name(type.BaseType);
        var ifaces = type.GetInterfaces().Select(Name).OrderBy(s => s, StringComparer.Ordinal).ToList();
        return ifaces.Count == 0 ? kind : kind + " ifaces=" + string.Join(",", ifaces);
    }

    static IEnumerable<string> Members(Type type)
    {
        foreach (var c in type.GetConstructors(Declared).Where(Visible))
        {
            if (c.IsStatic) continue;
            yield return ".ctor(" + Params(c.GetParameters()) + ")";
        }
        foreach (var m in type.GetMethods(Declared).Where(Visible))
        {
            if (m.IsSpecialName) continue;  // accessors and operators: not listed
            var name = m.Name;
            if (m.IsGenericMethodDefinition)
                name += "<" + string.Join(",", m.GetGenericArguments().Select(a => a.Name)) + ">";
            yield return (m.IsStatic ? "static " : "") + Name(m.ReturnType) + " " + name
                + "(" + Params(m.GetParameters()) + ")";
        }
        foreach (var p in type.GetProperties(Declared))
        {
            var get = p.GetGetMethod(true);
            var set = p.GetSetMethod(true);
            bool hasGet = Visible(get), hasSet = Visible(set);
            if (!hasGet && !hasSet) continue;
            var any = hasGet ? get : set;
            var index = p.GetIndexParameters();
            var name = p.Name + (index.Length == 0 ? "" : "[" + string.Join(",", index.Select(i => Name(i.ParameterType))) + "]");
            yield return "prop " + (any.IsStatic ? "static " : "") + Name(p.PropertyType) + " " + name
                + (hasGet ? " get" : "") + (hasSet ? " set" : "");
        }
        foreach (var f in type.GetFields(Declared))
        {
            if (!(f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly)) continue;
            var line = "field " + (f.IsStatic ? "static " : "") + Name(f.FieldType) + " " + f.Name;
            if (f.IsLiteral) line += "=" + Convert.ToString(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture);
            yield return line;
        }
        foreach (var e in type.GetEvents(Declared))
        {
            if (!Visible(e.GetAddMethod(true))) continue;
            yield return "event " + Name(e.EventHandlerType) + " " + e.Name;
        }
    }

    static string Params(ParameterInfo[] ps)
    {
        return string.Join(", ", ps.Select(p =>
        {
            var s = Name(p.ParameterType);
            if (p.ParameterType.IsByRef && p.IsOut) s += " out";
            if (p.IsOptional) s += "=opt";
            return s;
        }));
    }

    // Type names as the listings write them: namespace-qualified, `+` for nesting, `<A,B>` for
    // generic arguments, `ref T` for by-reference parameters.
    static string Name(Type t)
    {
        if (t == null) return "";
        if (t.IsByRef) return "ref " + Name(t.GetElementType());
        if (t.IsArray) return Name(t.GetElementType()) + "[" + new string(',', t.GetArrayRank() - 1) + "]";
        if (t.IsPointer) return Name(t.GetElementType()) + "*";
        if (t.IsGenericParameter) return t.Name;
        var name = t.Name;
        var tick = name.IndexOf('`');
        if (tick >= 0) name = name.Substring(0, tick);
        string prefix;
        if (t.IsNested)
        {
            var outer = Name(t.DeclaringType);
            var angle = outer.IndexOf('<');
            prefix = (angle >= 0 ? outer.Substring(0, angle) : outer) + "+";
        }
        else prefix = string.IsNullOrEmpty(t.Namespace) ? "" : t.Namespace + ".";
        if (t.IsGenericType)
        {
            var args = t.GetGenericArguments();
            if (t.IsNested) args = args.Skip(t.DeclaringType.GetGenericArguments().Length).ToArray();
            if (args.Length > 0) name += "<" + string.Join(",", args.Select(Name)) + ">";
        }
        return prefix + name;
    }
}
