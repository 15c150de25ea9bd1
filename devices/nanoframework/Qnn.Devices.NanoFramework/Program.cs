using System;
using System.Device.Gpio;
using System.Diagnostics;
using System.IO;
using System.Threading;
using Qnn.Format;

namespace Qnn.Devices.NanoFramework
{
    /// <summary>
    /// The ESP32 shell around the portable core: opens I:\model.qnn (deployed with `qnn flash --target esp32`),
    /// keeps the weights resident when the heap takes them or streams them from flash, classifies every raw input
    /// image I:\*.raw (height · width · channels 8-bit pixels, as `qnn run` reads raw files), and reports each class
    /// on the serial port and by blinking the LED class + 1 times. All the logic is in DeviceModel and the portable
    /// core; this file only touches the board.
    /// </summary>
    public class Program
    {
        private const string ModelPath = "I:\\model.qnn";
        private const string InputFolder = "I:\\";
        private const string InputExtension = ".raw";
        // The on-board LED of most ESP32 DevKit boards; change for yours (see README.md).
        private const int LedPin = 2;
        // Heap kept free beyond MemoryPlan.LoadBytes, which since 2026-12-02 counts the interpreter's and the model's
        // object and array headers (12-byte nanoCLR heap blocks: 3.7-4.8 KB for the models of runtime-edge/README.md)
        // and the reader's buffers. A nanoCLR measured 8.4-11 KB of live heap above the older plan (issue 17), of which
        // the headers explain about 4 KB; the rest (this app's file stream, strings, GPIO pin, fragmentation) is not
        // measured apart on a device, so the margin stays 8 KB on top of the larger plan.
        private const int HeapMarginBytes = 8 * 1024;

        public static void Main()
        {
            GpioController gpio = new GpioController();
            GpioPin led = gpio.OpenPin(LedPin, PinMode.Output);
            led.Write(PinValue.Low);
            try
            {
                Run(led);
            }
            catch (Exception e)
            {
                // One line naming the file and the problem (QnnFormatException, IOException, ...), then a fast blink.
                Report("qnn: " + e.Message);
                while (true)
                {
                    led.Toggle();
                    Thread.Sleep(100);
                }
            }
            Thread.Sleep(Timeout.Infinite);
        }

        private static void Run(GpioPin led)
        {
            if (!File.Exists(ModelPath)) throw new IOException(ModelPath + ": no such file (deploy it with `qnn flash --target esp32 MODEL`)");
            FileByteSource source = new FileByteSource(ModelPath);
            int freeHeap = (int)nanoFramework.Runtime.Native.GC.Run(true);
            DeviceModel model = DeviceModel.Open(source, freeHeap - HeapMarginBytes);
            Report("qnn: " + ModelPath + " " + model.Model.InputHeight.ToString() + "x" + model.Model.InputWidth.ToString()
                + "x" + model.Model.InputChannels.ToString() + " -> " + model.Model.ClassCount.ToString() + " classes, weights "
                + (model.Streamed ? "streamed from flash" : "resident") + ", plan " + model.Plan.TotalBytes.ToString()
                + " bytes, free heap before " + freeHeap.ToString() + " bytes");

            string[] files = Directory.GetFiles(InputFolder);
            int inputs = 0;
            for (int i = 0; i < files.Length; i++)
            {
                string path = files[i];
                if (!path.ToLower().EndsWith(InputExtension)) continue;
                inputs++;
                byte[] image = ReadAll(path, model.ImageBytes);
                DateTime start = DateTime.UtcNow;
                int predicted = model.Classify(image);
                TimeSpan took = DateTime.UtcNow - start;
                Report(path + ": class " + predicted.ToString() + " (" + model.ClassName(predicted) + ") in "
                    + (took.Ticks / TimeSpan.TicksPerMillisecond).ToString() + " ms");
                Blink(led, predicted + 1);
            }
            if (inputs == 0) Report("qnn: no " + InputExtension + " input images on " + InputFolder);
        }

        private static byte[] ReadAll(string path, int expected)
        {
            using (FileStream file = new FileStream(path, FileMode.Open, FileAccess.Read))
            {
                if (file.Length != expected)
                    throw new IOException(path + ": " + file.Length.ToString() + " bytes, the model takes " + expected.ToString());
                byte[] bytes = new byte[expected];
                int done = 0;
                while (done < expected)
                {
                    int read = file.Read(bytes, done, expected - done);
                    if (read <= 0) throw new IOException(path + ": ended early");
                    done += read;
                }
                return bytes;
            }
        }

        private static void Blink(GpioPin led, int times)
        {
            for (int i = 0; i < times; i++)
            {
                led.Write(PinValue.High);
                Thread.Sleep(250);
                led.Write(PinValue.Low);
                Thread.Sleep(250);
            }
            Thread.Sleep(1000);
        }

        private static void Report(string line)
        {
            // Console goes to the serial port; Debug to the debugger when one is attached.
            Console.WriteLine(line);
            Debug.WriteLine(line);
        }
    }
}
