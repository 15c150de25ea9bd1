using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Qnn.Runtime.Edge.Tests;

/// <summary>
/// Reads compiled IL with System.Reflection.Metadata and lists what the bitwise-only, nanoFramework-portable core
/// must not contain. Each finding is one line "Type::Method: what", so a failing test says where to look.
/// </summary>
public sealed class IlInspector : IDisposable
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Integer multiply, divide and remainder: what a microcontroller without a multiplier pays dearly for.</summary>
    private static readonly HashSet<short> Arithmetic =
        [OpCodes.Mul.Value, OpCodes.Mul_Ovf.Value, OpCodes.Mul_Ovf_Un.Value, OpCodes.Div.Value, OpCodes.Div_Un.Value, OpCodes.Rem.Value, OpCodes.Rem_Un.Value];

    /// <summary>Every IL instruction that loads, stores or converts to a floating-point value.</summary>
    private static readonly HashSet<short> FloatOps =
    [
        OpCodes.Conv_R4.Value, OpCodes.Conv_R8.Value, OpCodes.Conv_R_Un.Value, OpCodes.Ldc_R4.Value, OpCodes.Ldc_R8.Value,
        OpCodes.Ldind_R4.Value, OpCodes.Ldind_R8.Value, OpCodes.Stind_R4.Value, OpCodes.Stind_R8.Value,
        OpCodes.Ldelem_R4.Value, OpCodes.Ldelem_R8.Value, OpCodes.Stelem_R4.Value, OpCodes.Stelem_R8.Value, OpCodes.Ckfinite.Value,
    ];

    private readonly PEReader _pe;
    private readonly MetadataReader _md;
    private readonly Provider _provider;

    public IlInspector(string path)
    {
        _pe = new PEReader(File.OpenRead(path));
        _md = _pe.GetMetadataReader();
        _provider = new Provider();
    }

    public void Dispose() => _pe.Dispose();

    /// <summary>Full names of the types defined in the assembly.</summary>
    public IEnumerable<string> TypeNames() => _md.TypeDefinitions.Select(h => TypeName(_md.GetTypeDefinition(h)));

    /// <summary>Multiplications, divisions, remainders and floating point in the methods and fields of the selected types.</summary>
    public List<string> MultiplicationAndFloat(Func<string, bool> selectType)
    {
        var found = new List<string>();
        foreach (var (type, typeName) in Types(selectType))
        {
            foreach (var fh in type.GetFields())
            {
                var field = _md.GetFieldDefinition(fh);
                var features = Features(() => field.DecodeSignature(_provider, null));
                if (features.Contains(Feature.Float)) found.Add($"{typeName}::{_md.GetString(field.Name)}: floating-point field");
            }
            foreach (var (method, where) in Methods(type, typeName))
            {
                if (Features(() => method.DecodeSignature(_provider, null)).Contains(Feature.Float))
                    found.Add($"{where}: floating point in its signature");
                if (method.RelativeVirtualAddress == 0) continue;
                var body = _pe.GetMethodBody(method.RelativeVirtualAddress);
                if (!body.LocalSignature.IsNil &&
                    Features(() => _md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(_provider, null)).Contains(Feature.Float))
                    found.Add($"{where}: floating-point local");
                foreach (var (op, offset, token) in Instructions(body.GetILBytes()!))
                {
                    if (Arithmetic.Contains(op.Value)) found.Add($"{where}: {op.Name} at IL_{offset:x4}");
                    if (FloatOps.Contains(op.Value)) found.Add($"{where}: {op.Name} at IL_{offset:x4}");
                    if (token != 0 && TokenFeatures(token).Contains(Feature.Float))
                        found.Add($"{where}: {op.Name} of a floating-point member at IL_{offset:x4}");
                }
            }
        }
        return found;
    }

    /// <summary>
    /// What compiles for netstandard but cannot run on nanoCLR 1.x, in the selected types: generic types and methods
    /// (their definitions, instantiations in TypeSpec/MethodSpec, Func&lt;&gt;/Action&lt;&gt; references), multi-dimensional
    /// arrays, pointers, stackalloc (localloc), default interface methods.
    /// </summary>
    public List<string> NanoFrameworkViolations(Func<string, bool> selectType)
    {
        var found = new List<string>();
        foreach (var (type, typeName) in Types(selectType))
        {
            if (type.GetGenericParameters().Count > 0) found.Add($"{typeName}: generic type");
            bool isInterface = (type.Attributes & TypeAttributes.Interface) != 0;
            foreach (var fh in type.GetFields())
            {
                var field = _md.GetFieldDefinition(fh);
                Report(found, $"{typeName}::{_md.GetString(field.Name)} field", Features(() => field.DecodeSignature(_provider, null)));
            }
            foreach (var (method, where) in Methods(type, typeName))
            {
                if (method.GetGenericParameters().Count > 0) found.Add($"{where}: generic method");
                if (isInterface && (method.Attributes & MethodAttributes.Static) == 0 && (method.Attributes & MethodAttributes.Abstract) == 0)
                    found.Add($"{where}: default interface method");
                Report(found, where + " signature", Features(() => method.DecodeSignature(_provider, null)));
                if (method.RelativeVirtualAddress == 0) continue;
                var body = _pe.GetMethodBody(method.RelativeVirtualAddress);
                if (!body.LocalSignature.IsNil)
                    Report(found, where + " locals", Features(() => _md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(_provider, null)));
                foreach (var (op, offset, token) in Instructions(body.GetILBytes()!))
                {
                    if (op.Value == OpCodes.Localloc.Value) found.Add($"{where}: localloc (stackalloc) at IL_{offset:x4}");
                    if (token != 0) Report(found, $"{where}: {op.Name} at IL_{offset:x4}", TokenFeatures(token));
                }
            }
        }
        return found;
    }

    /// <summary>Whole-assembly findings: generic instantiations anywhere in the tables, references to generic types.</summary>
    public List<string> GenericTables()
    {
        var found = new List<string>();
        if (_md.GetTableRowCount(TableIndex.MethodSpec) > 0) found.Add($"{_md.GetTableRowCount(TableIndex.MethodSpec)} generic method instantiations (MethodSpec)");
        if (_md.GetTableRowCount(TableIndex.GenericParam) > 0) found.Add($"{_md.GetTableRowCount(TableIndex.GenericParam)} generic parameters (GenericParam)");
        for (int row = 1; row <= _md.GetTableRowCount(TableIndex.TypeSpec); row++)
        {
            var handle = MetadataTokens.TypeSpecificationHandle(row);
            Report(found, $"TypeSpec {row}", Features(() => _md.GetTypeSpecification(handle).DecodeSignature(_provider, null)));
        }
        foreach (var h in _md.TypeReferences)
        {
            var r = _md.GetTypeReference(h);
            string name = _md.GetString(r.Name);
            if (name.Contains('`')) found.Add($"reference to generic type {_md.GetString(r.Namespace)}.{name}");
        }
        return found;
    }

    /// <summary>Bytes of IL in all method bodies.</summary>
    public int TotalIlBytes() => _md.MethodDefinitions
        .Select(h => _md.GetMethodDefinition(h))
        .Where(m => m.RelativeVirtualAddress != 0)
        .Sum(m => _pe.GetMethodBody(m.RelativeVirtualAddress).GetILBytes()!.Length);

    /// <summary>Bytes of static data initialised from the image (fields with an RVA: array initializers).</summary>
    public int StaticDataBytes()
    {
        int total = 0;
        foreach (var h in _md.FieldDefinitions)
        {
            var field = _md.GetFieldDefinition(h);
            if (field.GetRelativeVirtualAddress() == 0) continue;
            total += field.DecodeSignature(new SizeProvider(), null);
        }
        return total;
    }

    /// <summary>Names of the assemblies this one references.</summary>
    public List<string> AssemblyReferences() =>
        _md.AssemblyReferences.Select(h => _md.GetString(_md.GetAssemblyReference(h).Name)).ToList();

    private IEnumerable<(TypeDefinition Type, string Name)> Types(Func<string, bool> select)
    {
        foreach (var h in _md.TypeDefinitions)
        {
            var type = _md.GetTypeDefinition(h);
            string name = TypeName(type);
            if (select(name)) yield return (type, name);
        }
    }

    private IEnumerable<(MethodDefinition Method, string Where)> Methods(TypeDefinition type, string typeName) =>
        type.GetMethods().Select(h => _md.GetMethodDefinition(h)).Select(m => (m, $"{typeName}::{_md.GetString(m.Name)}"));

    private string TypeName(TypeDefinition t)
    {
        string name = _md.GetString(t.Name);
        if (!t.GetDeclaringType().IsNil) return TypeName(_md.GetTypeDefinition(t.GetDeclaringType())) + "+" + name;
        string ns = _md.GetString(t.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    /// <summary>Decodes IL into (opcode, offset, metadata token or 0).</summary>
    public static IEnumerable<(OpCode Op, int Offset, int Token)> Instructions(byte[] il)
    {
        int i = 0;
        while (i < il.Length)
        {
            int offset = i;
            short value = il[i++];
            if (value == 0xFE) value = (short)(0xFE00 | il[i++]);
            if (!OpCodesByValue.TryGetValue(value, out var op)) throw new InvalidDataException($"unknown opcode 0x{value:x} at IL_{offset:x4}");
            int token = 0;
            switch (op.OperandType)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget: case OperandType.ShortInlineI: case OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI: case OperandType.InlineBrTarget: case OperandType.ShortInlineR: case OperandType.InlineString: i += 4; break;
                case OperandType.InlineField: case OperandType.InlineMethod: case OperandType.InlineSig: case OperandType.InlineTok: case OperandType.InlineType:
                    token = BitConverter.ToInt32(il, i); i += 4; break;
                case OperandType.InlineI8: case OperandType.InlineR: i += 8; break;
                case OperandType.InlineSwitch: int n = BitConverter.ToInt32(il, i); i += 4 + 4 * n; break;
                default: throw new InvalidDataException($"operand type {op.OperandType} at IL_{offset:x4}");
            }
            yield return (op, offset, token);
        }
    }

    /// <summary>The features of what a token names: a member reference's signature and parent, a type spec, a method spec.</summary>
    private HashSet<Feature> TokenFeatures(int token)
    {
        var handle = MetadataTokens.EntityHandle(token);
        switch (handle.Kind)
        {
            case HandleKind.MethodSpecification:
                var spec = _md.GetMethodSpecification((MethodSpecificationHandle)handle);
                var f = Features(() => spec.DecodeSignature(_provider, null));
                f.Add(Feature.Generic);
                f.UnionWith(TokenFeatures(MetadataTokens.GetToken(spec.Method)));
                return f;
            case HandleKind.TypeSpecification:
                return Features(() => _md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(_provider, null));
            case HandleKind.TypeReference:
                return Features(() => _provider.GetTypeFromReference(_md, (TypeReferenceHandle)handle, 0));
            case HandleKind.MemberReference:
                var member = _md.GetMemberReference((MemberReferenceHandle)handle);
                var features = member.GetKind() == MemberReferenceKind.Method
                    ? Features(() => member.DecodeMethodSignature(_provider, null))
                    : Features(() => member.DecodeFieldSignature(_provider, null));
                if (member.Parent.Kind is HandleKind.TypeSpecification or HandleKind.TypeReference)
                    features.UnionWith(TokenFeatures(MetadataTokens.GetToken(member.Parent)));
                return features;
            case HandleKind.MethodDefinition:
                var method = _md.GetMethodDefinition((MethodDefinitionHandle)handle);
                return Features(() => method.DecodeSignature(_provider, null));
            case HandleKind.FieldDefinition:
                var field = _md.GetFieldDefinition((FieldDefinitionHandle)handle);
                return Features(() => field.DecodeSignature(_provider, null));
            case HandleKind.StandaloneSignature:
                var sig = _md.GetStandaloneSignature((StandaloneSignatureHandle)handle);
                return sig.GetKind() == StandaloneSignatureKind.Method
                    ? Features(() => sig.DecodeMethodSignature(_provider, null))
                    : Features(() => sig.DecodeLocalSignature(_provider, null));
            default:
                return [];
        }
    }

    private HashSet<Feature> Features(Action decode)
    {
        _provider.Seen.Clear();
        decode();
        return [.. _provider.Seen];
    }

    private static void Report(List<string> found, string where, HashSet<Feature> features)
    {
        foreach (var f in features.Where(f => f != Feature.Float).Order())
            found.Add($"{where}: {Describe(f)}");
    }

    private static string Describe(Feature f) => f switch
    {
        Feature.Generic => "generic type or method",
        Feature.MultiDimensionalArray => "multi-dimensional array",
        Feature.Pointer => "pointer or function pointer",
        _ => f.ToString(),
    };

    public enum Feature { Float, Generic, MultiDimensionalArray, Pointer }

    /// <summary>Decodes signatures into names and records the features it meets on the way.</summary>
    private sealed class Provider : ISignatureTypeProvider<string, object?>
    {
        public readonly HashSet<Feature> Seen = [];

        public string GetPrimitiveType(PrimitiveTypeCode typeCode)
        {
            if (typeCode is PrimitiveTypeCode.Single or PrimitiveTypeCode.Double) Seen.Add(Feature.Float);
            return typeCode.ToString();
        }

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            var t = reader.GetTypeDefinition(handle);
            return Named(reader.GetString(t.Namespace), reader.GetString(t.Name));
        }

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            var t = reader.GetTypeReference(handle);
            return Named(reader.GetString(t.Namespace), reader.GetString(t.Name));
        }

        private string Named(string ns, string name)
        {
            if (ns == "System" && name is "Single" or "Double" or "Decimal" or "Half") Seen.Add(Feature.Float);
            if (name.Contains('`')) Seen.Add(Feature.Generic);
            return ns + "." + name;
        }

        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetArrayType(string elementType, ArrayShape shape) { Seen.Add(Feature.MultiDimensionalArray); return elementType + "[,]"; }
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetPointerType(string elementType) { Seen.Add(Feature.Pointer); return elementType + "*"; }
        public string GetFunctionPointerType(MethodSignature<string> signature) { Seen.Add(Feature.Pointer); return "fnptr"; }
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) { Seen.Add(Feature.Generic); return genericType + "<>"; }
        public string GetGenericMethodParameter(object? genericContext, int index) { Seen.Add(Feature.Generic); return "!!" + index; }
        public string GetGenericTypeParameter(object? genericContext, int index) { Seen.Add(Feature.Generic); return "!" + index; }
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
        public string GetPinnedType(string elementType) { Seen.Add(Feature.Pointer); return elementType + " pinned"; }
    }

    /// <summary>Size in bytes of an RVA field's type: a primitive, or the explicit size of a compiler-made struct.</summary>
    private sealed class SizeProvider : ISignatureTypeProvider<int, object?>
    {
        public int GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode switch
        {
            PrimitiveTypeCode.Boolean or PrimitiveTypeCode.Byte or PrimitiveTypeCode.SByte => 1,
            PrimitiveTypeCode.Char or PrimitiveTypeCode.Int16 or PrimitiveTypeCode.UInt16 => 2,
            PrimitiveTypeCode.Int32 or PrimitiveTypeCode.UInt32 or PrimitiveTypeCode.Single => 4,
            _ => 8,
        };
        public int GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => reader.GetTypeDefinition(handle).GetLayout().Size;
        public int GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => throw new InvalidDataException("RVA field of a referenced type");
        public int GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) => throw new InvalidDataException("RVA field of a type spec");
        public int GetSZArrayType(int elementType) => throw new InvalidDataException("RVA field of an array type");
        public int GetArrayType(int elementType, ArrayShape shape) => throw new InvalidDataException("RVA field of an array type");
        public int GetByReferenceType(int elementType) => 8;
        public int GetPointerType(int elementType) => 8;
        public int GetFunctionPointerType(MethodSignature<int> signature) => 8;
        public int GetGenericInstantiation(int genericType, ImmutableArray<int> typeArguments) => throw new InvalidDataException("generic RVA field");
        public int GetGenericMethodParameter(object? genericContext, int index) => throw new InvalidDataException("generic RVA field");
        public int GetGenericTypeParameter(object? genericContext, int index) => throw new InvalidDataException("generic RVA field");
        public int GetModifiedType(int modifier, int unmodifiedType, bool isRequired) => unmodifiedType;
        public int GetPinnedType(int elementType) => elementType;
    }
}
