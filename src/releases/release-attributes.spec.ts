import { filenameProblem, filetypeProblem, hasExtension, platformProblem } from './release-attributes';

describe('release attribute rules', () => {
  it('accepts prefixed filenames and rejects path tricks', () => {
    for (const ok of ['app-1.0.0.dmg', 'prod-1/linux-1-0-0.tar.gz', 'My App 2.0.exe', 'bin', '.env.tar']) {
      expect(filenameProblem(ok)).toBeNull();
    }
    for (const bad of ['', '../etc/passwd', 'a/../b', '/abs.zip', 'a\\b.zip', 'a\u0000.zip', 'a\nb', 'a//b', 'a/', './a', 'x'.repeat(256)]) {
      expect(filenameProblem(bad)).not.toBeNull();
    }
  });

  it('knows which filenames have an extension', () => {
    expect(hasExtension('a.dmg')).toBe(true);
    expect(hasExtension('dir.d/app')).toBe(false);
    expect(hasExtension('.bashrc')).toBe(false);
    expect(hasExtension('app.')).toBe(false);
    expect(hasExtension('app')).toBe(false);
  });

  it('matches the filetype with the extension', () => {
    expect(filetypeProblem('tar.gz', 'app-1.tar.gz')).toBeNull();
    expect(filetypeProblem('gz', 'app-1.tar.gz')).toBeNull();
    expect(filetypeProblem('dmg', 'App-1.0.DMG')).toBeNull();
    expect(filetypeProblem('zip', 'app-1.tar.gz')).not.toBeNull();
    expect(filetypeProblem('z', 'app-1.tar.gz')).not.toBeNull();
    expect(filetypeProblem('.dmg', 'app.dmg')).not.toBeNull();
    expect(filetypeProblem('DMG', 'app.DMG')).not.toBeNull();
    expect(filetypeProblem('bin', 'linux/app')).toBeNull();
    expect(filetypeProblem('anything', 'app')).toBeNull();
    expect(filetypeProblem('', 'app')).not.toBeNull();
  });

  it('wants lowercase platforms', () => {
    for (const ok of ['darwin/arm64', 'linux/amd64', 'windows', 'linux-musl/x86_64']) expect(platformProblem(ok)).toBeNull();
    for (const bad of ['Darwin', 'linux amd64', '', '/linux', 'win\t']) expect(platformProblem(bad)).not.toBeNull();
  });
});
