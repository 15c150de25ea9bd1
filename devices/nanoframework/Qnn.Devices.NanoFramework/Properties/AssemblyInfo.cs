using System.Reflection;
using System.Runtime.InteropServices;

[assembly: AssemblyTitle("Qnn.Devices.NanoFramework")]
[assembly: AssemblyDescription("Quantized neural network inference on an ESP32 under .NET nanoFramework")]
[assembly: AssemblyProduct("Qnn.Edge")]
[assembly: AssemblyVersion("0.1.0.0")]
[assembly: AssemblyFileVersion("0.1.0.0")]
[assembly: ComVisible(false)]
