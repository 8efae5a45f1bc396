; Inno Setup 6.3+ script for the Windows installer of Fashion Lens (not built in this repository's CI,
; which runs on Linux). On Windows, from the repository root:
;   py -3.11 -m venv .venv-app
;   .venv-app\Scripts\pip install -r packaging\requirements-app.txt
;   .venv-app\Scripts\pyinstaller --noconfirm build.spec        -> dist\FashionLens\FashionLens.exe
;   dist\FashionLens\FashionLens.exe --self-test               (a windowed exe: check %ERRORLEVEL%)
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\fashion-lens.iss
; -> dist\packages\FashionLens-0.1.0-windows-x64-setup.exe. Per-user or per-machine install (asked),
; a Start-menu entry, an optional desktop icon, an uninstaller. The app's log and settings live in
; %LOCALAPPDATA%\Fashion Lens and the registry, never in the install folder.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Fashion Lens"
#define AppExe "FashionLens.exe"

[Setup]
AppId={{6F1B8E52-3C0D-4E7A-9B7E-2D7C5A1F0B34}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Fashion Lens developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist\packages
OutputBaseFilename=FashionLens-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icons\fashion-lens.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
LZMAUseSeparateProcess=yes
LZMANumBlockThreads=4
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\..\dist\FashionLens\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#StringChange(AppName, '&', '&&')}}"; Flags: nowait postinstall skipifsilent
