/* Wine 8 has no bcryptprimitives.dll; Rust >= 1.78 std (cryptography's _rust.pyd) imports ProcessPrng. */
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE d, SIZE_T n) {
  while (n) { ULONG c = n > 0x10000000 ? 0x10000000 : (ULONG)n;
              if (!SystemFunction036(d, c)) return FALSE; d += c; n -= c; }
  return TRUE; }
