using UnityEngine;

namespace StyleBridge.Samples
{
    /// <summary>
    /// Builds the sample scene at runtime, so the sample ships as code instead of a binary .unity file:
    /// a row of spinning primitives in front of the camera this component sits on. Put it on the Main
    /// Camera of a new (Basic) scene together with StyleTransfer (see README.md) and press Play.
    /// </summary>
    [RequireComponent(typeof(Camera))]
    [AddComponentMenu("StyleBridge/Samples/Stylized Camera Scene")]
    public sealed class StylizedCameraScene : MonoBehaviour
    {
        [Tooltip("Number of spinning shapes.")]
        [SerializeField, Range(1, 12)] private int m_Shapes = 6;

        [Tooltip("Degrees per second.")]
        [SerializeField] private float m_Speed = 45f;

        private Transform[] m_Spinning;

        private void Start()
        {
            PrimitiveType[] kinds = { PrimitiveType.Cube, PrimitiveType.Sphere, PrimitiveType.Capsule, PrimitiveType.Cylinder };
            m_Spinning = new Transform[m_Shapes];
            Vector3 origin = transform.position;
            for (int i = 0; i < m_Shapes; i++)
            {
                GameObject shape = GameObject.CreatePrimitive(kinds[i % kinds.Length]);
                shape.name = "Sample Shape " + i;
                float x = (i - (m_Shapes - 1) * 0.5f) * 1.6f;
                shape.transform.position = origin + new Vector3(x, 0f, 6f);
                m_Spinning[i] = shape.transform;
            }
        }

        private void Update()
        {
            float angle = m_Speed * Time.deltaTime;
            for (int i = 0; i < m_Spinning.Length; i++)
            {
                m_Spinning[i].Rotate(0f, i % 2 == 0 ? angle : -angle, angle * 0.5f);
            }
        }
    }
}
