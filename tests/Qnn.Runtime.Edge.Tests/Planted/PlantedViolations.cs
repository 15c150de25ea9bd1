// What the IL checks must catch, compiled into the test assembly so that each check is seen to fail.
// Nothing here is called; only its IL is read.
namespace Qnn.Runtime.Edge.Tests.Planted;

public static class Multiplies { public static int Area(int h, int w) => h * w; }

public static class Divides { public static int Third(int x) => x / 3; }

public static class Remainders { public static int Mod(int x, int y) => x % y; }

public static class Floats { public static int Scale(int x) => (int)(x * 0.5); }

public static class FloatLocal
{
    public static int RoundTrip(int x)
    {
        float f = x;
        return (int)f;
    }
}

public static class Generics
{
    public static int Count<T>(T[] items) => items.Length;
    public static int CallsGeneric() => Count(new[] { 1, 2 });
    public static int UsesFunc(Func<int, int> f) => f(1);
}

public static class MultiDimensional
{
    public static int Make(int h, int w) => new int[h, w].Length;
}

public static class StackAllocates
{
    public static unsafe int Sum()
    {
        int* s = stackalloc int[4];
        s[0] = 1;
        return s[0];
    }
}

public static class Pointers { public static unsafe int Read(int* p) => *p; }

public interface IDefaultMethod { int Value() => 1; }

public static class StaticData { public static readonly int[] Table = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]; }
