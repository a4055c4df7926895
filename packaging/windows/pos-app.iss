; Inno Setup 6 script of the pos-app installer for Windows store terminals (x64).
;
;   python packaging\build.py --installer        (builds dist\pos-app\ and then runs ISCC like this:)
;   ISCC /DAppVersion=0.1.0 /DFileVersion=0.1.0.0 /DBundleDir=dist\pos-app /Odist packaging\windows\pos-app.iss
;
; Decisions (details in packaging/README.md):
; - per-machine install in Program Files, admin rights; same AppId forever, so a newer setup
;   upgrades in place;
; - the program's DATA is not here: it lives in each Windows user's
;   %LOCALAPPDATA%\PosApp\pos-app (platformdirs, or POS_DATA_DIR when set), next to that user's
;   Windows Credential Manager entries. The installer never writes, moves or deletes it, on
;   install, upgrade or uninstall: the database and pending contingency notes survive all three;
; - a running pos-app holds the mutex "PosAppCaixa" (PyInstaller runtime hook): setup and
;   uninstall refuse to replace files under a running terminal (silent mode: they abort, exit code
;   non-zero, nothing changed). Restart Manager (CloseApplications) is the second line.

#ifndef AppVersion
  #error Passe a versão: ISCC /DAppVersion=X.Y.Z (packaging\build.py lê do pyproject.toml)
#endif
#ifndef FileVersion
  #define FileVersion AppVersion
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\pos-app"
#endif
#ifndef Compression
  #define Compression "lzma2/max"
#endif

#define AppTitle "Frente de Caixa"
; Held by every running pos-app process (packaging/rthooks/pyi_rth_pos_app.py, MUTEX_NAMES).
#define RunningMutex "PosAppCaixa,Global\PosAppCaixa"
#define GuiExe "pos-app-gui.exe"
#define CliExe "pos-app.exe"

[Setup]
; Never change AppId: it is how an upgrade finds the previous installation.
AppId={{42DC89B4-128A-4F89-BFEE-BA9708AF9DE6}
AppName={#AppTitle}
AppVersion={#AppVersion}
AppVerName={#AppTitle} {#AppVersion}
AppPublisher=PosApp
VersionInfoVersion={#FileVersion}
VersionInfoProductVersion={#FileVersion}
VersionInfoDescription=Instalador do {#AppTitle} (pos-app)
DefaultDirName={autopf}\pos-app
DefaultGroupName={#AppTitle}
DisableProgramGroupPage=yes
DisableDirPage=auto
UsePreviousAppDir=yes
UsePreviousTasks=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename=pos-app-{#AppVersion}-setup
Compression={#Compression}
SolidCompression=yes
WizardStyle=modern
UninstallDisplayName={#AppTitle} {#AppVersion}
UninstallDisplayIcon={app}\{#GuiExe}
AppMutex={#RunningMutex}
SetupMutex=PosAppCaixaSetup,Global\PosAppCaixaSetup
CloseApplications=yes
CloseApplicationsFilter=*.exe,*.dll,*.pyd
RestartApplications=no
; Same bytes in, same file times in the installer (build.py stamps the bundle with SOURCE_DATE_EPOCH).
TimeStampsInUTC=yes

[Languages]
Name: "ptbr"; MessagesFile: "compiler:Languages\BrazilianPortuguese.isl"

[CustomMessages]
ptbr.Shortcuts=Atalhos:
ptbr.DesktopIcon=Criar atalho na área de trabalho
ptbr.Startup=Inicialização:
ptbr.StartWithWindows=Abrir o caixa ao iniciar o Windows (todos os usuários)
ptbr.OpenNow=Abrir o caixa agora
ptbr.Doctor=Diagnóstico do caixa (pos-app doctor)

[Tasks]
Name: "desktopicon"; Description: "{cm:DesktopIcon}"; GroupDescription: "{cm:Shortcuts}"; Flags: unchecked
Name: "startup"; Description: "{cm:StartWithWindows}"; GroupDescription: "{cm:Startup}"; Flags: unchecked

[InstallDelete]
; Upgrade: the previous version's runtime folder goes first, so no stale module of an old version
; can be imported by the new one. Only program files: the data folder is elsewhere.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppTitle}"; Filename: "{app}\{#GuiExe}"; WorkingDir: "{app}"
Name: "{group}\{cm:Doctor}"; Filename: "{cmd}"; Parameters: "/k """"{app}\{#CliExe}"" doctor"""; WorkingDir: "{app}"
Name: "{autodesktop}\{#AppTitle}"; Filename: "{app}\{#GuiExe}"; WorkingDir: "{app}"; Tasks: desktopicon
Name: "{commonstartup}\{#AppTitle}"; Filename: "{app}\{#GuiExe}"; WorkingDir: "{app}"; Tasks: startup

[Run]
; postinstall entries run as the user who started setup (not the elevated account), so the first
; start creates the data folder in that user's profile.
Filename: "{app}\{#GuiExe}"; Description: "{cm:OpenNow}"; Flags: nowait postinstall skipifsilent

; No [UninstallDelete]: uninstall removes program files only. Each user's data folder
; (%LOCALAPPDATA%\PosApp\pos-app: pos.sqlite3, contingency notes, XML, receipts) is kept on purpose.

[Code]
// AppMutex is checked when Setup starts; the cashier may open the program while the wizard is up.
// Check again right before any file is touched. Cancel, or a silent run with /SUPPRESSMSGBOXES,
// stops Setup with nothing changed (exit code 7).
function PrepareToInstall(var NeedsRestart: Boolean): String;
begin
  Result := '';
  while CheckForMutexes('{#RunningMutex}') do
    if SuppressibleMsgBox(FmtMessage(SetupMessage(msgSetupAppRunningError), ['{#AppTitle}']),
                          mbError, MB_OKCANCEL, IDCANCEL) <> IDOK then begin
      Result := FmtMessage(SetupMessage(msgSetupAppRunningError), ['{#AppTitle}']);
      Exit;
    end;
end;
