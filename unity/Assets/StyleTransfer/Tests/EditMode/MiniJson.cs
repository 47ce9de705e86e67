using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace StyleBridge.Tests.EditMode
{
    /// <summary>
    /// A small strict JSON reader for the shared test vectors (tests only). Unity's profile does not
    /// promise System.Runtime.Serialization.Json and JsonUtility cannot read free-form objects, so the
    /// tests carry their own: objects become Dictionary&lt;string, object&gt;, arrays List&lt;object&gt;,
    /// numbers double, plus string, bool and null.
    /// </summary>
    public static class MiniJson
    {
        /// <summary>Parses one JSON document.</summary>
        /// <exception cref="FormatException">Malformed JSON, with the character offset.</exception>
        public static object Parse(string text)
        {
            var reader = new Reader(text ?? "");
            object value = reader.ReadValue();
            reader.SkipSpace();
            if (!reader.AtEnd)
            {
                throw reader.Error("trailing characters after the document");
            }
            return value;
        }

        private sealed class Reader
        {
            private readonly string _s;
            private int _i;

            public Reader(string s)
            {
                _s = s;
            }

            public bool AtEnd
            {
                get { return _i >= _s.Length; }
            }

            public FormatException Error(string what)
            {
                return new FormatException("JSON: " + what + " at offset " + _i);
            }

            public void SkipSpace()
            {
                while (_i < _s.Length && (_s[_i] == ' ' || _s[_i] == '\t' || _s[_i] == '\n' || _s[_i] == '\r'))
                {
                    _i++;
                }
            }

            public object ReadValue()
            {
                SkipSpace();
                if (AtEnd)
                {
                    throw Error("unexpected end");
                }
                char c = _s[_i];
                switch (c)
                {
                    case '{':
                        return ReadObject();
                    case '[':
                        return ReadArray();
                    case '"':
                        return ReadString();
                    case 't':
                        Expect("true");
                        return true;
                    case 'f':
                        Expect("false");
                        return false;
                    case 'n':
                        Expect("null");
                        return null;
                    default:
                        return ReadNumber();
                }
            }

            private void Expect(string word)
            {
                if (string.CompareOrdinal(_s, _i, word, 0, word.Length) != 0)
                {
                    throw Error("expected " + word);
                }
                _i += word.Length;
            }

            private Dictionary<string, object> ReadObject()
            {
                var result = new Dictionary<string, object>();
                _i++;
                SkipSpace();
                if (!AtEnd && _s[_i] == '}')
                {
                    _i++;
                    return result;
                }
                while (true)
                {
                    SkipSpace();
                    if (AtEnd || _s[_i] != '"')
                    {
                        throw Error("expected a key");
                    }
                    string key = ReadString();
                    SkipSpace();
                    if (AtEnd || _s[_i] != ':')
                    {
                        throw Error("expected ':'");
                    }
                    _i++;
                    result[key] = ReadValue();
                    SkipSpace();
                    if (AtEnd)
                    {
                        throw Error("unterminated object");
                    }
                    if (_s[_i] == ',')
                    {
                        _i++;
                        continue;
                    }
                    if (_s[_i] == '}')
                    {
                        _i++;
                        return result;
                    }
                    throw Error("expected ',' or '}'");
                }
            }

            private List<object> ReadArray()
            {
                var result = new List<object>();
                _i++;
                SkipSpace();
                if (!AtEnd && _s[_i] == ']')
                {
                    _i++;
                    return result;
                }
                while (true)
                {
                    result.Add(ReadValue());
                    SkipSpace();
                    if (AtEnd)
                    {
                        throw Error("unterminated array");
                    }
                    if (_s[_i] == ',')
                    {
                        _i++;
                        continue;
                    }
                    if (_s[_i] == ']')
                    {
                        _i++;
                        return result;
                    }
                    throw Error("expected ',' or ']'");
                }
            }

            private string ReadString()
            {
                var sb = new StringBuilder();
                _i++;
                while (true)
                {
                    if (AtEnd)
                    {
                        throw Error("unterminated string");
                    }
                    char c = _s[_i++];
                    if (c == '"')
                    {
                        return sb.ToString();
                    }
                    if (c != '\\')
                    {
                        sb.Append(c);
                        continue;
                    }
                    if (AtEnd)
                    {
                        throw Error("unterminated escape");
                    }
                    char e = _s[_i++];
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u':
                            if (_i + 4 > _s.Length)
                            {
                                throw Error("short \\u escape");
                            }
                            sb.Append((char)int.Parse(_s.Substring(_i, 4), NumberStyles.HexNumber,
                                CultureInfo.InvariantCulture));
                            _i += 4;
                            break;
                        default:
                            throw Error("bad escape \\" + e);
                    }
                }
            }

            private double ReadNumber()
            {
                int start = _i;
                while (_i < _s.Length && "+-0123456789.eE".IndexOf(_s[_i]) >= 0)
                {
                    _i++;
                }
                if (start == _i)
                {
                    throw Error("unexpected character '" + _s[_i] + "'");
                }
                double value;
                if (!double.TryParse(_s.Substring(start, _i - start), NumberStyles.Float, CultureInfo.InvariantCulture,
                    out value))
                {
                    throw Error("bad number " + _s.Substring(start, _i - start));
                }
                return value;
            }
        }
    }

    /// <summary>Typed access to parsed JSON, failing with the key's name instead of a cast error.</summary>
    public static class Json
    {
        /// <summary>The object member <paramref name="key"/> (must exist).</summary>
        public static object Get(object obj, string key)
        {
            var dict = obj as Dictionary<string, object>;
            if (dict == null)
            {
                throw new FormatException("expected a JSON object holding '" + key + "'");
            }
            object value;
            if (!dict.TryGetValue(key, out value))
            {
                throw new FormatException("JSON object has no '" + key + "'");
            }
            return value;
        }

        /// <summary>True when the object has member <paramref name="key"/>.</summary>
        public static bool Has(object obj, string key)
        {
            var dict = obj as Dictionary<string, object>;
            return dict != null && dict.ContainsKey(key);
        }

        /// <summary>A string member.</summary>
        public static string Str(object obj, string key)
        {
            object v = Get(obj, key);
            if (!(v is string))
            {
                throw new FormatException("'" + key + "' is not a string");
            }
            return (string)v;
        }

        /// <summary>A number member.</summary>
        public static double Num(object obj, string key)
        {
            return AsNumber(Get(obj, key), key);
        }

        /// <summary>A number member that must be an integer.</summary>
        public static long Int(object obj, string key)
        {
            double d = Num(obj, key);
            if (d != Math.Floor(d))
            {
                throw new FormatException("'" + key + "' is not an integer: " + d);
            }
            return (long)d;
        }

        /// <summary>A boolean member.</summary>
        public static bool Bool(object obj, string key)
        {
            object v = Get(obj, key);
            if (!(v is bool))
            {
                throw new FormatException("'" + key + "' is not a boolean");
            }
            return (bool)v;
        }

        /// <summary>An array member.</summary>
        public static List<object> Arr(object obj, string key)
        {
            var list = Get(obj, key) as List<object>;
            if (list == null)
            {
                throw new FormatException("'" + key + "' is not an array");
            }
            return list;
        }

        /// <summary>An object member.</summary>
        public static Dictionary<string, object> Obj(object obj, string key)
        {
            var dict = Get(obj, key) as Dictionary<string, object>;
            if (dict == null)
            {
                throw new FormatException("'" + key + "' is not an object");
            }
            return dict;
        }

        /// <summary>A number, or one of the strings "NaN", "Infinity", "-Infinity".</summary>
        public static double AsNumber(object value, string what)
        {
            if (value is double)
            {
                return (double)value;
            }
            var s = value as string;
            if (s == "NaN") return double.NaN;
            if (s == "Infinity") return double.PositiveInfinity;
            if (s == "-Infinity") return double.NegativeInfinity;
            throw new FormatException("'" + what + "' is not a number");
        }
    }
}
