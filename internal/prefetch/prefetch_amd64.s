#include "textflag.h"

// func Range(p unsafe.Pointer, n uintptr)
TEXT ·Range(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX  // CX: the end of the range
	ANDQ $~63, AX // AX: the start of its first line
loop:
	CMPQ AX, CX
	JCC  done    // AX >= CX, unsigned
	PREFETCHT0 (AX)
	ADDQ $64, AX
	JMP  loop
done:
	RET
