using System;
using StyleBridge.Core;
using Unity.Barracuda;

namespace StyleBridge.Inference
{
    /// <summary>
    /// Barracuda's <c>new Tensor(texture, channels)</c> maps LDR pixels to 0..1, while a TransformerNet
    /// exported without the scale built in expects 0..255. Rather than converting pixels on the CPU,
    /// this adds one broadcast Mul by a constant in front of the graph (a <c>ModelBuilder.Const</c> and
    /// a <c>ModelBuilder.Mul</c>), so the scale runs on the worker's device with the rest of the model.
    /// Models whose metadata says 0..1 (<c>input_range</c> = 1) are left as they are.
    /// </summary>
    public static class InputScalePatch
    {
        /// <summary>Name of the added constant layer.</summary>
        public const string ScaleConstName = "stylebridge_input_scale";

        /// <summary>Name of the added Mul layer; the model's first layers read it instead of the input.</summary>
        public const string ScaledInputName = "stylebridge_scaled_input";

        /// <summary>Adds the input scale the metadata asks for; returns the same model.</summary>
        /// <exception cref="ArgumentException">The model has no such input, or the range is not 1 or 255.</exception>
        public static Model Apply(Model model, ModelInputInfo info)
        {
            if (model == null)
            {
                throw new ArgumentNullException("model");
            }
            float scale = InputScaling.TextureToModelScale(info.InputRange);
            if (scale == 1f)
            {
                return model;
            }
            string input = ResolveInput(model, info.InputName);
            foreach (Layer layer in model.layers)
            {
                if (layer.name == ScaledInputName)
                {
                    return model; // already patched (e.g. the same Model loaded twice)
                }
            }
            foreach (Layer layer in model.layers)
            {
                for (int i = 0; i < layer.inputs.Length; i++)
                {
                    if (layer.inputs[i] == input)
                    {
                        layer.inputs[i] = ScaledInputName;
                    }
                }
            }
            var builder = new ModelBuilder(model);
            using (var constant = new Tensor(1, 1, new[] { scale }))
            {
                builder.Const(ScaleConstName, constant, 0);
            }
            Layer mul = builder.Mul(ScaledInputName, new object[] { input, ScaleConstName });
            // Mul is appended at the end; layers run in list order, so move it right after the constant.
            model.layers.Remove(mul);
            model.layers.Insert(1, mul);
            return model;
        }

        /// <summary>The input to scale: the named one, or the model's only input.</summary>
        private static string ResolveInput(Model model, string name)
        {
            if (model.inputs.Count == 0)
            {
                throw new ArgumentException("the model has no inputs; a style transfer model takes one image", "model");
            }
            if (string.IsNullOrEmpty(name))
            {
                return model.inputs[0].name;
            }
            foreach (Model.Input input in model.inputs)
            {
                if (input.name == name)
                {
                    return name;
                }
            }
            throw new ArgumentException("the model has no input named '" + name + "' (the metadata's input_name); "
                + "its inputs are: " + string.Join(", ", model.inputs.ConvertAll(i => i.name).ToArray()), "model");
        }
    }
}
