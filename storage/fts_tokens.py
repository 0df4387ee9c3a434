"""The tokens SQLite's FTS5 `unicode61 remove_diacritics 2` tokenizer makes, computed in Python.

The PostgreSQL engine indexes exactly the tokens the SQLite engine's FTS5 table holds, so both
engines match and rank the same papers. FTS5 decides per code point from its own Unicode 6.1
tables: a code point is a separator or a token character, and a token character is folded
(case, Latin diacritics; combining marks fold to nothing) to one character or none. Tokens are the
runs of token characters, folded; a run that folds to nothing is no token and takes no position.

The two tables below were read off SQLite 3.40.1's FTS5 (every code point, in `a?b`, through
fts5vocab); tests/storage/test_fts_tokens.py checks them against the SQLite this runs with.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Separator code points, as hex ranges `a-b` or single `a`.
_SEPARATORS = (
    "0-2f,3a-40,5b-60,7b-a9,ab-b1,b4,b6-b8,bb,bf,d7,f7,2c2-2c5,2d2-2df,2e5-2eb,2ed,2ef-2ff,305,"
    "30d-30e,310,312-31a,31c-322,329-32c,32f,332-36f,375,37e,384-385,387,3f6,482-489,55a-55f,"
    "589-58a,58f,591-5c7,5f3-5f4,600-604,606-61b,61e-61f,64b-65f,66a-66d,670,6d4,6d6-6e4,6e7-6ed,"
    "6fd-6fe,700-70d,70f,711,730-74a,7a6-7b0,7eb-7f3,7f6-7f9,816-819,81b-823,825-827,829-82d,"
    "830-83e,859-85b,85e,8e4-8fe,900-903,93a-93c,93e-94f,951-957,962-965,970,981-983,9bc,9be-9c4,"
    "9c7-9c8,9cb-9cd,9d7,9e2-9e3,9f2-9f3,9fa-9fb,a01-a03,a3c,a3e-a42,a47-a48,a4b-a4d,a51,a70-a71,"
    "a75,a81-a83,abc,abe-ac5,ac7-ac9,acb-acd,ae2-ae3,af0-af1,b01-b03,b3c,b3e-b44,b47-b48,b4b-b4d,"
    "b56-b57,b62-b63,b70,b82,bbe-bc2,bc6-bc8,bca-bcd,bd7,bf3-bfa,c01-c03,c3e-c44,c46-c48,c4a-c4d,"
    "c55-c56,c62-c63,c7f,c82-c83,cbc,cbe-cc4,cc6-cc8,cca-ccd,cd5-cd6,ce2-ce3,d02-d03,d3e-d44,"
    "d46-d48,d4a-d4d,d57,d62-d63,d79,d82-d83,dca,dcf-dd4,dd6,dd8-ddf,df2-df4,e31,e34-e3a,e3f,"
    "e47-e4f,e5a-e5b,eb1,eb4-eb9,ebb-ebc,ec8-ecd,f01-f1f,f34-f3f,f71-f87,f8d-f97,f99-fbc,fbe-fcc,"
    "fce-fda,102b-103e,104a-104f,1056-1059,105e-1060,1062-1064,1067-106d,1071-1074,1082-108d,108f,"
    "109a-109f,10fb,135d-1368,1390-1399,1400,166d-166e,1680,169b-169c,16eb-16ed,1712-1714,"
    "1732-1736,1752-1753,1772-1773,17b4-17d6,17d8-17db,17dd,1800-180e,18a9,1920-192b,1930-193b,"
    "1940,1944-1945,19b0-19c0,19c8-19c9,19de-19ff,1a17-1a1b,1a1e-1a1f,1a55-1a5e,1a60-1a7c,1a7f,"
    "1aa0-1aa6,1aa8-1aad,1b00-1b04,1b34-1b44,1b5a-1b7c,1b80-1b82,1ba1-1bad,1be6-1bf3,1bfc-1bff,"
    "1c24-1c37,1c3b-1c3f,1c7e-1c7f,1cc0-1cc7,1cd0-1ce8,1ced,1cf2-1cf4,1dc0-1de6,1dfc-1dff,1fbd,"
    "1fbf-1fc1,1fcd-1fcf,1fdd-1fdf,1fed-1fef,1ffd-1ffe,2000-2064,206a-206f,207a-207e,208a-208e,"
    "20a0-20b9,20d0-20f0,2100-2101,2103-2106,2108-2109,2114,2116-2118,211e-2123,2125,2127,2129,"
    "212e,213a-213b,2140-2144,214a-214d,214f,2190-23f3,2400-2426,2440-244a,249c-24e9,2500-26ff,"
    "2701-2775,2794-2b4c,2b50-2b59,2ce5-2cea,2cef-2cf1,2cf9-2cfc,2cfe-2cff,2d70,2d7f,2de0-2e2e,"
    "2e30-2e3b,2e80-2e99,2e9b-2ef3,2f00-2fd5,2ff0-2ffb,3000-3004,3008-3020,302a-3030,3036-3037,"
    "303d-303f,3099-309c,30a0,30fb,3190-3191,3196-319f,31c0-31e3,3200-321e,322a-3247,3250,"
    "3260-327f,328a-32b0,32c0-32fe,3300-33ff,4dc0-4dff,a490-a4c6,a4fe-a4ff,a60d-a60f,a66f-a67e,"
    "a69f,a6f0-a6f7,a700-a716,a720-a721,a789-a78a,a802,a806,a80b,a823-a82b,a836-a839,a874-a877,"
    "a880-a881,a8b4-a8c4,a8ce-a8cf,a8e0-a8f1,a8f8-a8fa,a926-a92f,a947-a953,a95f,a980-a983,"
    "a9b3-a9cd,a9de-a9df,aa29-aa36,aa43,aa4c-aa4d,aa5c-aa5f,aa77-aa79,aa7b,aab0,aab2-aab4,"
    "aab7-aab8,aabe-aabf,aac1,aade-aadf,aaeb-aaf1,aaf5-aaf6,abe3-abed,fb1e,fb29,fbb2-fbc1,"
    "fd3e-fd3f,fdfc-fdfd,fe00-fe19,fe20-fe26,fe30-fe52,fe54-fe66,fe68-fe6b,feff,ff01-ff0f,"
    "ff1a-ff20,ff3b-ff40,ff5b-ff65,ffe0-ffe6,ffe8-ffee,fff9-ffff,10100-10102,10137-1013f,"
    "10179-10189,10190-1019b,101d0-101fd,1039f,103d0,10857,1091f,1093f,10a01-10a03,10a05-10a06,"
    "10a0c-10a0f,10a38-10a3a,10a3f,10a50-10a58,10a7f,10b39-10b3f,11000-11002,11038-1104d,"
    "11080-11082,110b0-110c1,11100-11102,11127-11134,11140-11143,11180-11182,111b3-111c0,"
    "111c5-111c8,116ab-116b7,12470-12473,16f51-16f7e,16f8f-16f92,1d000-1d0f5,1d100-1d126,"
    "1d129-1d1dd,1d200-1d245,1d300-1d356,1d6c1,1d6db,1d6fb,1d715,1d735,1d74f,1d76f,1d789,1d7a9,"
    "1d7c3,1eef0-1eef1,1f000-1f02b,1f030-1f093,1f0a0-1f0ae,1f0b1-1f0be,1f0c1-1f0cf,1f0d1-1f0df,"
    "1f110-1f12e,1f130-1f16b,1f170-1f19a,1f1e6-1f202,1f210-1f23a,1f240-1f248,1f250-1f251,"
    "1f300-1f320,1f330-1f335,1f337-1f37c,1f380-1f393,1f3a0-1f3c4,1f3c6-1f3ca,1f3e0-1f3f0,"
    "1f400-1f43e,1f440,1f442-1f4f7,1f4f9-1f4fc,1f500-1f53d,1f540-1f543,1f550-1f567,1f5fb-1f640,"
    "1f645-1f64f,1f680-1f6c5,1f700-1f773,e0001,e0020-e007f,e0100-e01ef"
)
# Token characters that fold: `code:folded` (folded empty: the character is dropped).
_FOLDS = (
    "41:61,42:62,43:63,44:64,45:65,46:66,47:67,48:68,49:69,4a:6a,4b:6b,4c:6c,4d:6d,4e:6e,4f:6f,"
    "50:70,51:71,52:72,53:73,54:74,55:75,56:76,57:77,58:78,59:79,5a:7a,b5:3bc,c0:61,c1:61,c2:61,"
    "c3:61,c4:61,c5:61,c6:e6,c7:63,c8:65,c9:65,ca:65,cb:65,cc:69,cd:69,ce:69,cf:69,d0:f0,d1:6e,"
    "d2:6f,d3:6f,d4:6f,d5:6f,d6:6f,d8:f8,d9:75,da:75,db:75,dc:75,dd:79,de:fe,e0:61,e1:61,e2:61,"
    "e3:61,e4:61,e5:61,e7:63,e8:65,e9:65,ea:65,eb:65,ec:69,ed:69,ee:69,ef:69,f1:6e,f2:6f,f3:6f,"
    "f4:6f,f5:6f,f6:6f,f9:75,fa:75,fb:75,fc:75,fd:79,ff:79,100:61,101:61,102:61,103:61,104:61,"
    "105:61,106:63,107:63,108:63,109:63,10a:63,10b:63,10c:63,10d:63,10e:64,10f:64,110:111,112:65,"
    "113:65,114:65,115:65,116:65,117:65,118:65,119:65,11a:65,11b:65,11c:67,11d:67,11e:67,11f:67,"
    "120:67,121:67,122:67,123:67,124:68,125:68,126:127,128:69,129:69,12a:69,12b:69,12c:69,12d:69,"
    "12e:69,12f:69,130:69,132:133,134:6a,135:6a,136:6b,137:6b,139:6c,13a:6c,13b:6c,13c:6c,13d:6c,"
    "13e:6c,13f:140,141:142,143:6e,144:6e,145:6e,146:6e,147:6e,148:6e,14a:14b,14c:6f,14d:6f,14e:6f,"
    "14f:6f,150:6f,151:6f,152:153,154:72,155:72,156:72,157:72,158:72,159:72,15a:73,15b:73,15c:73,"
    "15d:73,15e:73,15f:73,160:73,161:73,162:74,163:74,164:74,165:74,166:167,168:75,169:75,16a:75,"
    "16b:75,16c:75,16d:75,16e:75,16f:75,170:75,171:75,172:75,173:75,174:77,175:77,176:79,177:79,"
    "178:79,179:7a,17a:7a,17b:7a,17c:7a,17d:7a,17e:7a,17f:73,181:253,182:183,184:185,186:254,"
    "187:188,189:256,18a:257,18b:18c,18e:1dd,18f:259,190:25b,191:192,193:260,194:263,196:269,"
    "197:268,198:199,19c:26f,19d:272,19f:275,1a0:6f,1a1:6f,1a2:1a3,1a4:1a5,1a6:280,1a7:1a8,1a9:283,"
    "1ac:1ad,1ae:288,1af:75,1b0:75,1b1:28a,1b2:28b,1b3:1b4,1b5:1b6,1b7:292,1b8:1b9,1bc:1bd,1c4:1c6,"
    "1c5:1c6,1c7:1c9,1c8:1c9,1ca:1cc,1cb:1cc,1cd:61,1ce:61,1cf:69,1d0:69,1d1:6f,1d2:6f,1d3:75,"
    "1d4:75,1d5:75,1d6:75,1d7:75,1d8:75,1d9:75,1da:75,1db:75,1dc:75,1de:61,1df:61,1e0:1e1,1e2:1e3,"
    "1e4:1e5,1e6:67,1e7:67,1e8:6b,1e9:6b,1ea:6f,1eb:6f,1ec:6f,1ed:6f,1ee:1ef,1f0:6a,1f1:1f3,"
    "1f2:1f3,1f4:67,1f5:67,1f6:195,1f7:1bf,1f8:6e,1f9:6e,1fa:61,1fb:61,1fc:1fd,1fe:1ff,200:61,"
    "201:61,202:61,203:61,204:65,205:65,206:65,207:65,208:69,209:69,20a:69,20b:69,20c:6f,20d:6f,"
    "20e:6f,20f:6f,210:72,211:72,212:72,213:72,214:75,215:75,216:75,217:75,218:73,219:73,21a:74,"
    "21b:74,21c:21d,21e:68,21f:68,220:19e,222:223,224:225,226:61,227:61,228:65,229:65,22a:6f,"
    "22b:6f,22c:6f,22d:6f,22e:6f,22f:6f,230:6f,231:6f,232:79,233:79,23a:2c65,23b:23c,23d:19a,"
    "23e:2c66,241:242,243:180,244:289,245:28c,246:247,248:249,24a:24b,24c:24d,24e:24f,300:,301:,"
    "302:,303:,304:,306:,307:,308:,309:,30a:,30b:,30c:,30f:,311:,31b:,323:,324:,325:,326:,327:,"
    "328:,32d:,32e:,330:,331:,370:371,372:373,376:377,386:3ac,388:3ad,389:3ae,38a:3af,38c:3cc,"
    "38e:3cd,38f:3ce,391:3b1,392:3b2,393:3b3,394:3b4,395:3b5,396:3b6,397:3b7,398:3b8,399:3b9,"
    "39a:3ba,39b:3bb,39c:3bc,39d:3bd,39e:3be,39f:3bf,3a0:3c0,3a1:3c1,3a3:3c3,3a4:3c4,3a5:3c5,"
    "3a6:3c6,3a7:3c7,3a8:3c8,3a9:3c9,3aa:3ca,3ab:3cb,3c2:3c3,3cf:3d7,3d0:3b2,3d1:3b8,3d5:3c6,"
    "3d6:3c0,3d8:3d9,3da:3db,3dc:3dd,3de:3df,3e0:3e1,3e2:3e3,3e4:3e5,3e6:3e7,3e8:3e9,3ea:3eb,"
    "3ec:3ed,3ee:3ef,3f0:3ba,3f1:3c1,3f4:3b8,3f5:3b5,3f7:3f8,3f9:3f2,3fa:3fb,3fd:37b,3fe:37c,"
    "3ff:37d,400:450,401:451,402:452,403:453,404:454,405:455,406:456,407:457,408:458,409:459,"
    "40a:45a,40b:45b,40c:45c,40d:45d,40e:45e,40f:45f,410:430,411:431,412:432,413:433,414:434,"
    "415:435,416:436,417:437,418:438,419:439,41a:43a,41b:43b,41c:43c,41d:43d,41e:43e,41f:43f,"
    "420:440,421:441,422:442,423:443,424:444,425:445,426:446,427:447,428:448,429:449,42a:44a,"
    "42b:44b,42c:44c,42d:44d,42e:44e,42f:44f,460:461,462:463,464:465,466:467,468:469,46a:46b,"
    "46c:46d,46e:46f,470:471,472:473,474:475,476:477,478:479,47a:47b,47c:47d,47e:47f,480:481,"
    "48a:48b,48c:48d,48e:48f,490:491,492:493,494:495,496:497,498:499,49a:49b,49c:49d,49e:49f,"
    "4a0:4a1,4a2:4a3,4a4:4a5,4a6:4a7,4a8:4a9,4aa:4ab,4ac:4ad,4ae:4af,4b0:4b1,4b2:4b3,4b4:4b5,"
    "4b6:4b7,4b8:4b9,4ba:4bb,4bc:4bd,4be:4bf,4c0:4cf,4c1:4c2,4c3:4c4,4c5:4c6,4c7:4c8,4c9:4ca,"
    "4cb:4cc,4cd:4ce,4d0:4d1,4d2:4d3,4d4:4d5,4d6:4d7,4d8:4d9,4da:4db,4dc:4dd,4de:4df,4e0:4e1,"
    "4e2:4e3,4e4:4e5,4e6:4e7,4e8:4e9,4ea:4eb,4ec:4ed,4ee:4ef,4f0:4f1,4f2:4f3,4f4:4f5,4f6:4f7,"
    "4f8:4f9,4fa:4fb,4fc:4fd,4fe:4ff,500:501,502:503,504:505,506:507,508:509,50a:50b,50c:50d,"
    "50e:50f,510:511,512:513,514:515,516:517,518:519,51a:51b,51c:51d,51e:51f,520:521,522:523,"
    "524:525,526:527,531:561,532:562,533:563,534:564,535:565,536:566,537:567,538:568,539:569,"
    "53a:56a,53b:56b,53c:56c,53d:56d,53e:56e,53f:56f,540:570,541:571,542:572,543:573,544:574,"
    "545:575,546:576,547:577,548:578,549:579,54a:57a,54b:57b,54c:57c,54d:57d,54e:57e,54f:57f,"
    "550:580,551:581,552:582,553:583,554:584,555:585,556:586,10a0:2d00,10a1:2d01,10a2:2d02,"
    "10a3:2d03,10a4:2d04,10a5:2d05,10a6:2d06,10a7:2d07,10a8:2d08,10a9:2d09,10aa:2d0a,10ab:2d0b,"
    "10ac:2d0c,10ad:2d0d,10ae:2d0e,10af:2d0f,10b0:2d10,10b1:2d11,10b2:2d12,10b3:2d13,10b4:2d14,"
    "10b5:2d15,10b6:2d16,10b7:2d17,10b8:2d18,10b9:2d19,10ba:2d1a,10bb:2d1b,10bc:2d1c,10bd:2d1d,"
    "10be:2d1e,10bf:2d1f,10c0:2d20,10c1:2d21,10c2:2d22,10c3:2d23,10c4:2d24,10c5:2d25,10c7:2d27,"
    "10cd:2d2d,1e00:61,1e01:61,1e02:62,1e03:62,1e04:62,1e05:62,1e06:62,1e07:62,1e08:63,1e09:63,"
    "1e0a:64,1e0b:64,1e0c:64,1e0d:64,1e0e:64,1e0f:64,1e10:64,1e11:64,1e12:64,1e13:64,1e14:65,"
    "1e15:65,1e16:65,1e17:65,1e18:65,1e19:65,1e1a:65,1e1b:65,1e1c:65,1e1d:65,1e1e:66,1e1f:66,"
    "1e20:67,1e21:67,1e22:68,1e23:68,1e24:68,1e25:68,1e26:68,1e27:68,1e28:68,1e29:68,1e2a:68,"
    "1e2b:68,1e2c:69,1e2d:69,1e2e:69,1e2f:69,1e30:6b,1e31:6b,1e32:6b,1e33:6b,1e34:6b,1e35:6b,"
    "1e36:6c,1e37:6c,1e38:6c,1e39:6c,1e3a:6c,1e3b:6c,1e3c:6c,1e3d:6c,1e3e:6d,1e3f:6d,1e40:6d,"
    "1e41:6d,1e42:6d,1e43:6d,1e44:6e,1e45:6e,1e46:6e,1e47:6e,1e48:6e,1e49:6e,1e4a:6e,1e4b:6e,"
    "1e4c:6f,1e4d:6f,1e4e:6f,1e4f:6f,1e50:6f,1e51:6f,1e52:6f,1e53:6f,1e54:70,1e55:70,1e56:70,"
    "1e57:70,1e58:72,1e59:72,1e5a:72,1e5b:72,1e5c:72,1e5d:72,1e5e:72,1e5f:72,1e60:73,1e61:73,"
    "1e62:73,1e63:73,1e64:73,1e65:73,1e66:73,1e67:73,1e68:73,1e69:73,1e6a:74,1e6b:74,1e6c:74,"
    "1e6d:74,1e6e:74,1e6f:74,1e70:74,1e71:74,1e72:75,1e73:75,1e74:75,1e75:75,1e76:75,1e77:75,"
    "1e78:75,1e79:75,1e7a:75,1e7b:75,1e7c:76,1e7d:76,1e7e:76,1e7f:76,1e80:77,1e81:77,1e82:77,"
    "1e83:77,1e84:77,1e85:77,1e86:77,1e87:77,1e88:77,1e89:77,1e8a:78,1e8b:78,1e8c:78,1e8d:78,"
    "1e8e:79,1e8f:79,1e90:7a,1e91:7a,1e92:7a,1e93:7a,1e94:7a,1e95:7a,1e96:68,1e97:74,1e98:77,"
    "1e99:79,1e9b:73,1e9e:df,1ea0:61,1ea1:61,1ea2:61,1ea3:61,1ea4:61,1ea5:61,1ea6:61,1ea7:61,"
    "1ea8:61,1ea9:61,1eaa:61,1eab:61,1eac:61,1ead:61,1eae:61,1eaf:61,1eb0:61,1eb1:61,1eb2:61,"
    "1eb3:61,1eb4:61,1eb5:61,1eb6:61,1eb7:61,1eb8:65,1eb9:65,1eba:65,1ebb:65,1ebc:65,1ebd:65,"
    "1ebe:65,1ebf:65,1ec0:65,1ec1:65,1ec2:65,1ec3:65,1ec4:65,1ec5:65,1ec6:65,1ec7:65,1ec8:69,"
    "1ec9:69,1eca:69,1ecb:69,1ecc:6f,1ecd:6f,1ece:6f,1ecf:6f,1ed0:6f,1ed1:6f,1ed2:6f,1ed3:6f,"
    "1ed4:6f,1ed5:6f,1ed6:6f,1ed7:6f,1ed8:6f,1ed9:6f,1eda:6f,1edb:6f,1edc:6f,1edd:6f,1ede:6f,"
    "1edf:6f,1ee0:6f,1ee1:6f,1ee2:6f,1ee3:6f,1ee4:75,1ee5:75,1ee6:75,1ee7:75,1ee8:75,1ee9:75,"
    "1eea:75,1eeb:75,1eec:75,1eed:75,1eee:75,1eef:75,1ef0:75,1ef1:75,1ef2:79,1ef3:79,1ef4:79,"
    "1ef5:79,1ef6:79,1ef7:79,1ef8:79,1ef9:79,1efa:1efb,1efc:1efd,1efe:1eff,1f08:1f00,1f09:1f01,"
    "1f0a:1f02,1f0b:1f03,1f0c:1f04,1f0d:1f05,1f0e:1f06,1f0f:1f07,1f18:1f10,1f19:1f11,1f1a:1f12,"
    "1f1b:1f13,1f1c:1f14,1f1d:1f15,1f28:1f20,1f29:1f21,1f2a:1f22,1f2b:1f23,1f2c:1f24,1f2d:1f25,"
    "1f2e:1f26,1f2f:1f27,1f38:1f30,1f39:1f31,1f3a:1f32,1f3b:1f33,1f3c:1f34,1f3d:1f35,1f3e:1f36,"
    "1f3f:1f37,1f48:1f40,1f49:1f41,1f4a:1f42,1f4b:1f43,1f4c:1f44,1f4d:1f45,1f59:1f51,1f5b:1f53,"
    "1f5d:1f55,1f5f:1f57,1f68:1f60,1f69:1f61,1f6a:1f62,1f6b:1f63,1f6c:1f64,1f6d:1f65,1f6e:1f66,"
    "1f6f:1f67,1f88:1f80,1f89:1f81,1f8a:1f82,1f8b:1f83,1f8c:1f84,1f8d:1f85,1f8e:1f86,1f8f:1f87,"
    "1f98:1f90,1f99:1f91,1f9a:1f92,1f9b:1f93,1f9c:1f94,1f9d:1f95,1f9e:1f96,1f9f:1f97,1fa8:1fa0,"
    "1fa9:1fa1,1faa:1fa2,1fab:1fa3,1fac:1fa4,1fad:1fa5,1fae:1fa6,1faf:1fa7,1fb8:1fb0,1fb9:1fb1,"
    "1fba:1f70,1fbb:1f71,1fbc:1fb3,1fbe:3b9,1fc8:1f72,1fc9:1f73,1fca:1f74,1fcb:1f75,1fcc:1fc3,"
    "1fd8:1fd0,1fd9:1fd1,1fda:1f76,1fdb:1f77,1fe8:1fe0,1fe9:1fe1,1fea:1f7a,1feb:1f7b,1fec:1fe5,"
    "1ff8:1f78,1ff9:1f79,1ffa:1f7c,1ffb:1f7d,1ffc:1ff3,2126:3c9,212a:6b,212b:61,2132:214e,"
    "2160:2170,2161:2171,2162:2172,2163:2173,2164:2174,2165:2175,2166:2176,2167:2177,2168:2178,"
    "2169:2179,216a:217a,216b:217b,216c:217c,216d:217d,216e:217e,216f:217f,2183:2184,2c00:2c30,"
    "2c01:2c31,2c02:2c32,2c03:2c33,2c04:2c34,2c05:2c35,2c06:2c36,2c07:2c37,2c08:2c38,2c09:2c39,"
    "2c0a:2c3a,2c0b:2c3b,2c0c:2c3c,2c0d:2c3d,2c0e:2c3e,2c0f:2c3f,2c10:2c40,2c11:2c41,2c12:2c42,"
    "2c13:2c43,2c14:2c44,2c15:2c45,2c16:2c46,2c17:2c47,2c18:2c48,2c19:2c49,2c1a:2c4a,2c1b:2c4b,"
    "2c1c:2c4c,2c1d:2c4d,2c1e:2c4e,2c1f:2c4f,2c20:2c50,2c21:2c51,2c22:2c52,2c23:2c53,2c24:2c54,"
    "2c25:2c55,2c26:2c56,2c27:2c57,2c28:2c58,2c29:2c59,2c2a:2c5a,2c2b:2c5b,2c2c:2c5c,2c2d:2c5d,"
    "2c2e:2c5e,2c60:2c61,2c62:26b,2c63:1d7d,2c64:27d,2c67:2c68,2c69:2c6a,2c6b:2c6c,2c6d:251,"
    "2c6e:271,2c6f:250,2c70:252,2c72:2c73,2c75:2c76,2c7e:23f,2c7f:240,2c80:2c81,2c82:2c83,"
    "2c84:2c85,2c86:2c87,2c88:2c89,2c8a:2c8b,2c8c:2c8d,2c8e:2c8f,2c90:2c91,2c92:2c93,2c94:2c95,"
    "2c96:2c97,2c98:2c99,2c9a:2c9b,2c9c:2c9d,2c9e:2c9f,2ca0:2ca1,2ca2:2ca3,2ca4:2ca5,2ca6:2ca7,"
    "2ca8:2ca9,2caa:2cab,2cac:2cad,2cae:2caf,2cb0:2cb1,2cb2:2cb3,2cb4:2cb5,2cb6:2cb7,2cb8:2cb9,"
    "2cba:2cbb,2cbc:2cbd,2cbe:2cbf,2cc0:2cc1,2cc2:2cc3,2cc4:2cc5,2cc6:2cc7,2cc8:2cc9,2cca:2ccb,"
    "2ccc:2ccd,2cce:2ccf,2cd0:2cd1,2cd2:2cd3,2cd4:2cd5,2cd6:2cd7,2cd8:2cd9,2cda:2cdb,2cdc:2cdd,"
    "2cde:2cdf,2ce0:2ce1,2ce2:2ce3,2ceb:2cec,2ced:2cee,2cf2:2cf3,a640:a641,a642:a643,a644:a645,"
    "a646:a647,a648:a649,a64a:a64b,a64c:a64d,a64e:a64f,a650:a651,a652:a653,a654:a655,a656:a657,"
    "a658:a659,a65a:a65b,a65c:a65d,a65e:a65f,a660:a661,a662:a663,a664:a665,a666:a667,a668:a669,"
    "a66a:a66b,a66c:a66d,a680:a681,a682:a683,a684:a685,a686:a687,a688:a689,a68a:a68b,a68c:a68d,"
    "a68e:a68f,a690:a691,a692:a693,a694:a695,a696:a697,a722:a723,a724:a725,a726:a727,a728:a729,"
    "a72a:a72b,a72c:a72d,a72e:a72f,a732:a733,a734:a735,a736:a737,a738:a739,a73a:a73b,a73c:a73d,"
    "a73e:a73f,a740:a741,a742:a743,a744:a745,a746:a747,a748:a749,a74a:a74b,a74c:a74d,a74e:a74f,"
    "a750:a751,a752:a753,a754:a755,a756:a757,a758:a759,a75a:a75b,a75c:a75d,a75e:a75f,a760:a761,"
    "a762:a763,a764:a765,a766:a767,a768:a769,a76a:a76b,a76c:a76d,a76e:a76f,a779:a77a,a77b:a77c,"
    "a77d:1d79,a77e:a77f,a780:a781,a782:a783,a784:a785,a786:a787,a78b:a78c,a78d:265,a790:a791,"
    "a792:a793,a7a0:a7a1,a7a2:a7a3,a7a4:a7a5,a7a6:a7a7,a7a8:a7a9,a7aa:266,ff21:ff41,ff22:ff42,"
    "ff23:ff43,ff24:ff44,ff25:ff45,ff26:ff46,ff27:ff47,ff28:ff48,ff29:ff49,ff2a:ff4a,ff2b:ff4b,"
    "ff2c:ff4c,ff2d:ff4d,ff2e:ff4e,ff2f:ff4f,ff30:ff50,ff31:ff51,ff32:ff52,ff33:ff53,ff34:ff54,"
    "ff35:ff55,ff36:ff56,ff37:ff57,ff38:ff58,ff39:ff59,ff3a:ff5a,10400:10428,10401:10429,"
    "10402:1042a,10403:1042b,10404:1042c,10405:1042d,10406:1042e,10407:1042f,10408:10430,"
    "10409:10431,1040a:10432,1040b:10433,1040c:10434,1040d:10435,1040e:10436,1040f:10437,"
    "10410:10438,10411:10439,10412:1043a,10413:1043b,10414:1043c,10415:1043d,10416:1043e,"
    "10417:1043f,10418:10440,10419:10441,1041a:10442,1041b:10443,1041c:10444,1041d:10445,"
    "1041e:10446,1041f:10447,10420:10448,10421:10449,10422:1044a,10423:1044b,10424:1044c,"
    "10425:1044d,10426:1044e,10427:1044f"
)


def _separator_class() -> str:
    parts = []
    for item in _SEPARATORS.split(","):
        low, _, high = item.partition("-")
        first, last = chr(int(low, 16)), chr(int(high or low, 16))
        parts.append(re.escape(first) if first == last else f"{re.escape(first)}-{re.escape(last)}")
    return "".join(parts)


_FOLD_TABLE: dict[int, str] = {}
for _item in _FOLDS.split(","):
    _code, _, _to = _item.partition(":")
    _FOLD_TABLE[int(_code, 16)] = chr(int(_to, 16)) if _to else ""
_TOKEN = re.compile(f"[^{_separator_class()}\ud800-\udfff]+")
_ASCII_TOKEN = re.compile(r"[0-9a-z]+")


def tokens(text: str) -> list[str]:
    """The FTS5 tokens of `text`, folded, in order (their list index is their FTS5 position)."""
    if text.isascii():
        return _ASCII_TOKEN.findall(text.lower())
    found = [token.translate(_FOLD_TABLE) for token in _TOKEN.findall(text)]
    return [token for token in found if token]


@lru_cache(maxsize=4096)
def fold_token(token: str) -> str:
    """One token character run folded as FTS5 folds it (for query words already split into tokens)."""
    return token.lower() if token.isascii() else token.translate(_FOLD_TABLE)
