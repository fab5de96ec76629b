#!/usr/bin/env python3
"""Turn a payload image into a C header: bin2c.py SYMBOL IN.bin OUT.h"""
import sys

def main():
    symbol, src, dst = sys.argv[1:4]
    data = open(src, 'rb').read()
    lines = ['/* Generated from %s by guest/bin2c.py: do not edit. */' % src.split('/')[-1],
             'static const unsigned char %s[%d] = {' % (symbol, len(data))]
    for i in range(0, len(data), 12):
        lines.append('    ' + ' '.join('0x%02x,' % b for b in data[i:i + 12]))
    lines.append('};')
    with open(dst, 'w') as f:
        f.write('\n'.join(lines) + '\n')

if __name__ == '__main__':
    main()
