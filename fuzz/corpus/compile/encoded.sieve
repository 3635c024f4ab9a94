require ["encoded-character", "fileinto"];
if header :contains "subject" "${hex:43 61 66 c3 a9}" {
    fileinto "${unicode:43 61 66 e9}";
}
fileinto "${hex:}${unicode: 0 }x${hex:zz}";
