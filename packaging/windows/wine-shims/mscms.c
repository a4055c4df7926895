/* Wine 8's mscms!WcsCreateIccProfile is an unimplemented stub: Qt's qwindows.dll calls it and Wine
   aborts the process. "No colour profile" everywhere; Qt then assumes sRGB. */
#include <windows.h>
__declspec(dllexport) HANDLE WINAPI OpenColorProfileW(void *p, DWORD a, DWORD s, DWORD c) { SetLastError(ERROR_NOT_SUPPORTED); return NULL; }
__declspec(dllexport) BOOL WINAPI CloseColorProfile(HANDLE h) { return TRUE; }
__declspec(dllexport) BOOL WINAPI GetColorProfileFromHandle(HANDLE h, BYTE *b, DWORD *n) { SetLastError(ERROR_INVALID_HANDLE); return FALSE; }
__declspec(dllexport) HANDLE WINAPI WcsCreateIccProfile(HANDLE h, DWORD o) { SetLastError(ERROR_NOT_SUPPORTED); return NULL; }
