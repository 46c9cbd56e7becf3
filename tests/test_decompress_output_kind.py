"""decompress decided "-o is a folder" after repeated inputs were merged, compress from the
arguments as typed: ``taco decompress x.taco ./x.taco -o dd.png`` wrote the file dd.png where
``taco compress`` refuses a file name (review SC 3). Both now decide from the arguments, as their
--help says ("a folder or several files in")."""

from __future__ import annotations

from taco.cli import main


def test_one_file_named_twice_takes_a_folder_as_compress_does(tmp_path, capsys, monkeypatch):
    taco = tmp_path / "x.taco"
    taco.write_bytes(b"not read: refused before")
    monkeypatch.chdir(tmp_path)
    assert main(["decompress", "x.taco", "./x.taco", "-o", "dd.png"]) == 2
    err = capsys.readouterr().err
    assert "dd.png names a file, but the output of a folder or of several files is a folder" in err
    assert not (tmp_path / "dd.png").exists()
    image = tmp_path / "x.png"
    image.write_bytes(b"not read either")
    assert main(["compress", "x.png", "./x.png", "--caption", "", "-o", "cc.taco"]) == 2
    assert "cc.taco names a file, but the output of a folder or of several files is a folder" in \
        capsys.readouterr().err
