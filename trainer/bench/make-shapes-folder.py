# A small colour image folder for trying `--dataset folder:PATH` (trainer/README.md): 4 classes of coloured shapes on
# noisy backgrounds, 32x32 RGB PNGs written with the standard library only. Usage: python3 make-shapes-folder.py OUT PER_CLASS
import os, random, struct, sys, zlib
def png(path, w, h, rgb):
    raw = b''.join(b'\x00' + bytes(rgb[y*w*3:(y+1)*w*3]) for y in range(h))
    def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
root, per = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
colours = {'red-disc': (220, 40, 40), 'green-square': (40, 200, 60), 'blue-bar': (40, 70, 220), 'yellow-cross': (230, 210, 40)}
for name, col in colours.items():
    os.makedirs(os.path.join(root, name), exist_ok=True)
    for i in range(per):
        w = h = 32; cx, cy = rng.randint(10, 21), rng.randint(10, 21); r = rng.randint(5, 9)
        bg = [rng.randint(0, 120) for _ in range(3)]
        px = []
        for y in range(h):
            for x in range(w):
                if name == 'red-disc': inside = (x-cx)**2 + (y-cy)**2 <= r*r
                elif name == 'green-square': inside = abs(x-cx) <= r and abs(y-cy) <= r
                elif name == 'blue-bar': inside = abs(x-cx) <= 2 and abs(y-cy) <= r + 3
                else: inside = (abs(x-cx) <= 1 and abs(y-cy) <= r) or (abs(y-cy) <= 1 and abs(x-cx) <= r)
                c = col if inside else bg
                px += [max(0, min(255, v + rng.randint(-25, 25))) for v in c]
        png(os.path.join(root, name, f'{i:04d}.png'), w, h, px)
