# Generates patterns/rules/{keys,urls,generic}.toml with fresh random example values.
# Run: python3 patterns/tools/gen_keys_urls_generic.py && cp /tmp/gen/{keys,urls,generic}.toml patterns/rules/
import secrets, string, base64, textwrap
R=secrets.SystemRandom()
A62=string.ascii_letters+string.digits
B64=A62+"+/"
def rnd(n, alpha=A62): return ''.join(R.choice(alpha) for _ in range(n))
def b64lines(nbytes, prefix=""):
    raw=base64.b64encode(secrets.token_bytes(nbytes)).decode()
    raw=prefix+raw[len(prefix):]
    return '\n'.join(textwrap.wrap(raw,64))
def pem(kind, nbytes, prefix, headers=""):
    return f"-----BEGIN {kind}-----\n{headers}{b64lines(nbytes,prefix)}\n-----END {kind}-----"
def b64url(s): return base64.urlsafe_b64encode(s.encode()).decode().rstrip('=')
out=[]
def q(s):
    assert "'''" not in s
    return "'''"+s+"'''"
def rule(id, desc, keywords, regex, severity, examples, negatives, **kw):
    lines=["[[rules]]", f'id = "{id}"', f'description = "{desc}"', "keywords = ["+", ".join(f'"{k}"' for k in keywords)+"]", f"regex = {q(regex)}"]
    for k,v in kw.items():
        if isinstance(v,str): lines.append(f'{k} = "{v}"')
        elif isinstance(v,bool): lines.append(f'{k} = {"true" if v else "false"}')
        elif isinstance(v,list): lines.append(f'{k} = ['+", ".join(q(x) for x in v)+']')
        else: lines.append(f'{k} = {v}')
    lines.append(f'severity = "{severity}"')
    lines.append("examples = [\n"+",\n".join("  "+q(e) for e in examples)+",\n]")
    lines.append("negative_examples = [\n"+",\n".join("  "+q(e) for e in negatives)+",\n]")
    out.append("\n".join(lines)+"\n")

# ---------- keys.toml
PK = r'''(-----BEGIN[ A-Z0-9]{0,32}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s:,.()\-]|\\[nr]){64,16384}?-----END[ A-Z0-9]{0,32}PRIVATE KEY(?: BLOCK)?-----)'''
rule("private-key", "Private key (PEM: RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP)", ["PRIVATE KEY"], PK, "critical",
  [pem("RSA PRIVATE KEY",1190,"MIIEpAIBAAKCAQEA"),
   pem("EC PRIVATE KEY",121,"MHcCAQEEI"),
   pem("PRIVATE KEY",1216,"MIIEvgIBADANBgkqhkiG9w0BAQEFAASC"),
   pem("OPENSSH PRIVATE KEY",400,"b3BlbnNzaC1rZXktdjEAAAAA"),
   pem("DSA PRIVATE KEY",440,"MIIBuwIBAAKBgQ"),
   pem("ENCRYPTED PRIVATE KEY",1250,"MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkq"),
   pem("RSA PRIVATE KEY",1190,"MIIEowIBAAKCAQEA", "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,"+rnd(32,"0123456789ABCDEF")+"\n\n"),
   pem("PGP PRIVATE KEY BLOCK",900,"lQOYBF", "Version: GnuPG v2\n\n"),
   '{"type": "service_account", "private_key": "'+pem("PRIVATE KEY",1216,"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC").replace("\n","\\n")+'\\n"}',
  ],
  ["-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
   "if line.startswith('-----BEGIN RSA PRIVATE KEY-----'):",
   pem("PUBLIC KEY",294,"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"),
   "-----BEGIN PRIVATE KEY-----\n<your private key here>\n-----END PRIVATE KEY-----"],
  window=16384, entropy=4.2, revoke="Generate a new key pair, replace the public key wherever it is trusted (servers, CAs, deploy keys), and delete the old one")
hdr=b64url('{"alg":"HS256","typ":"JWT"}'); hdr2=b64url('{"alg":"RS256","kid":"'+rnd(12)+'","typ":"JWT"}')
pay=b64url('{"sub":"'+rnd(10,string.digits)+'","name":"svc-deploy","iat":17'+rnd(8,string.digits)+',"scope":"admin"}')
pay2=b64url('{"iss":"https://auth.acme.io/","aud":"api","exp":18'+rnd(8,string.digits)+',"uid":"'+rnd(16)+'"}')
sig=rnd(43, A62+"-_"); sig2=rnd(342, A62+"-_")
rule("jwt", "JSON Web Token", ["eyJ"], r'''\b(eyJ[A-Za-z0-9_-]{10,}={0,2}\.eyJ[A-Za-z0-9_-]{10,}={0,2}\.[A-Za-z0-9_-]{16,}={0,2})''', "medium",
  [f'Authorization: Bearer {hdr}.{pay}.{sig}', f'const token = "{hdr2}.{pay2}.{sig2}";', f'JWT_TOKEN={hdr}.{pay2}.{sig}'],
  [f'{hdr}.{pay}.', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c', 'token = "eyJhbGciOiJIUzI1NiJ9.eyJ..."'],
  entropy=4.0, stopwords=["SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"], revoke="Rotate the signing key that issued it if the token is long-lived; otherwise let it expire and revoke the session")
open('/tmp/gen/keys.toml','w').write("# Private keys and signed tokens.\n\n"+"\n".join(out)); out.clear()

# ---------- urls.toml
pw=lambda: rnd(12, A62+"!*_-")+R.choice(string.digits)+rnd(3)
SCHEMES="postgres|postgresql|mysql|mariadb|mongodb|mongodb\\+srv|redis|rediss|amqp|amqps|mssql|sqlserver|clickhouse|cockroachdb|couchdb|neo4j|neo4j\\+s|cassandra|oracle|db2|snowflake"
rule("database-url-password", "Database or message broker URL with an embedded password", ["postgres://","postgresql://","mysql://","mariadb://","mongodb://","mongodb+srv://","redis://","rediss://","amqp://","amqps://","mssql://","sqlserver://","clickhouse://","cockroachdb://","couchdb://","neo4j://","neo4j+s://","cassandra://","oracle://","db2://","snowflake://"],
  r'''(?i)\b(?:'''+SCHEMES+r''')://[^\s:@/"'`<>]{0,128}:([^\s@/"'`<>]{3,128})@[A-Za-z0-9.\-_\[\]%]{1,255}''', "critical",
  ['DATABASE_URL=postgres://app_user:'+(p1:=pw())+'@db.internal.acme.io:5432/orders',
   'MONGO_URI = "mongodb+srv://svc:'+pw()+'@cluster0.x7k2p.mongodb.net/prod?retryWrites=true"',
   'redis_url: redis://default:'+pw()+'@cache-01.acme.io:6379/0',
   "spring.rabbitmq.addresses=amqps://ingest:"+pw()+"@mq.acme.io:5671/vhost",
   '  url: "mysql://reporting:'+pw()+'@10.0.4.12:3306/analytics"',
   "redis://:"+pw()+"@redis.prod:6380"],
  ['DATABASE_URL=postgres://user:password@localhost:5432/db', 'mongodb://${MONGO_USER}:${MONGO_PASSWORD}@mongo:27017', 'postgres://postgres:postgres@localhost/test', 'redis://localhost:6379/0', 'amqp://guest:guest@localhost:5672/', 'mysql://root:****@db/app'],
  entropy=2.5, stopwords=["password", "passwd", "postgres", "mysql", "guest", "root", "admin", "changeit"],
  revoke="Change the database user's password (ALTER USER / the provider's console) and move the URL into a secret store")
rule("url-basic-auth", "Credentials embedded in a URL (user:password@host)", ["http://","https://","ftp://","ftps://","sftp://","ssh://","git://","smb://","ldap://","ldaps://","svn://"],
  r'''(?i)\b(?:https?|ftps?|sftp|ssh|git|smb|ldaps?|svn)://[A-Za-z0-9._~%!$&*+=\-]{1,64}:([A-Za-z0-9._~%!$&*+=\-]{6,128})@[A-Za-z0-9.\-]{1,253}\.[A-Za-z]{2,63}\b''', "high",
  ['git clone https://deploy-bot:'+rnd(20)+'@git.acme.io/platform/infra.git', 'registry = "https://ci:'+rnd(14)+'x9@artifacts.acme.com/npm/"', 'FTP_URL=ftp://backup:'+pw()+'@ftp.acme.net/'],
  ['https://user:password@example.com/', 'https://github.com/acme/repo.git', 'http://user:${TOKEN}@host.com', 'see https://docs.acme.io:443/path', 'https://alice:hunter@mail.google.com', 'git push https://x-access-token:$GITHUB_TOKEN@github.com/acme/app.git'],
  entropy=3.0, min_char_classes=2, stopwords=["password", "passwd", "pass@", "secret"], excluded_secrets=[r'^[$%]'],
  revoke="Change the account's password or revoke the token, and use a credential helper instead of putting it in the URL")
rule("http-basic-authorization", "HTTP Basic Authorization header", ["authorization", "basic "],
  r'''(?i)\bauthorization["']?\]?\s{0,4}[:=,]\s{0,4}["']?basic\s+([A-Za-z0-9+/]{12,}={0,2})''', "high",
  ['curl -H "Authorization: Basic '+base64.b64encode(('svc-ci:'+rnd(18)).encode()).decode()+'" https://api.acme.io', "headers = {'Authorization': 'Basic "+base64.b64encode(('admin:'+rnd(14)).encode()).decode()+"'}"],
  ['Authorization: Basic <credentials>', 'Authorization: Basic ${BASIC_AUTH}', "'Authorization': 'Basic ' + btoa(user + ':' + pass)"],
  entropy=3.5, revoke="Change the password of the account in the header")
rule("http-bearer-authorization", "HTTP Bearer Authorization header with a literal token", ["bearer"],
  r'''(?i)\bauthorization["']?\]?\s{0,4}[:=,]\s{0,4}["']?bearer\s+([A-Za-z0-9._~+/\-]{24,}=*)''', "high",
  ['curl -H "Authorization: Bearer '+rnd(40, A62+"._-")+'" https://api.acme.io/v1/jobs', "req.headers['Authorization'] = 'Bearer "+rnd(32)+"'"],
  ['Authorization: Bearer $TOKEN', 'Authorization: Bearer <token>', "'Authorization': 'Bearer ' + accessToken", 'Authorization: Bearer {{ token }}'],
  entropy=3.5, min_char_classes=2, revoke="Revoke the token with the service that issued it")
rule("netrc-password", "Password in a .netrc file", ["machine"],
  r'''(?i)\bmachine[ \t]+[^\s]+(?:\s+login[ \t]+[^\s]+)?\s+password[ \t]+([^\s{}]{6,128})''', "high",
  ['machine api.heroku.com\n  login ops@acme.io\n  password '+rnd(8,"0123456789abcdef")+'-'+rnd(4,"0123456789abcdef")+'-4'+rnd(3,"0123456789abcdef")+'-a'+rnd(3,"0123456789abcdef")+'-'+rnd(12,"0123456789abcdef"), 'machine ftp.acme.net login backup password '+pw()],
  ['machine api.heroku.com\n  login me@acme.io\n  password ${HEROKU_API_KEY}', 'the machine password is stored elsewhere'],
  entropy=2.8, stopwords=["password"], revoke="Change the password or token for that host and use a credential helper")
rule("docker-config-auth", "Registry credentials in a Docker config.json (base64 of user:password)", ["auths"],
  r'''"auth"\s{0,4}:\s{0,4}"([A-Za-z0-9+/]{16,}={0,2})"''', "high",
  ['{"auths": {"registry.acme.io": {"auth": "'+base64.b64encode(('ci-bot:'+rnd(20)).encode()).decode()+'"}}}'],
  ['{"auths": {"registry.acme.io": {"auth": ""}}}', '{"auths": {"r.io": {"auth": "dXNlcm5hbWU6cGFzc3dvcmQ="}}}', '{"auths": {"ghcr.io": {"auth": "<base64>"}}}'],
  entropy=3.5, window=4096, stopwords=["dXNlcm5hbWU6", "cGFzc3dvcmQ", "OnBhc3N3b3Jk"], revoke="Change the registry password or revoke the access token, then run docker login again")
open('/tmp/gen/urls.toml','w').write("# Credentials inside URLs and HTTP headers.\n\n"+"\n".join(out)); out.clear()

# ---------- generic.toml
KEYS=r'''(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_.\-]?key|apikey|access[_.\-]?key|auth[_.\-]?key|client[_.\-]?secret|private[_.\-]?key|credentials?|signing[_.\-]?key|encryption[_.\-]?key|master[_.\-]?key)'''
KW=["password","passwd","passphrase","pwd","secret","token","apikey","api_key","api-key","api.key","access_key","accesskey","access-key","auth_key","authkey","credential","private_key","privatekey","signing_key","signingkey","encryption_key","encryptionkey","master_key","masterkey","clientsecret"]
EXCL=[r'''^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$''', r'''^[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::|->)[A-Za-z_][A-Za-z0-9_]*)+(?:\(\))?$''', r'''^\[[A-Za-z_ ]+\]$''', r'''(?i)\.(?:pem|key|crt|cer|der|p12|pfx|jks|json|ya?ml|txt|env|conf|cfg|ini|properties|xml|toml)$''', r'''^[0-9]+$''', r'''(?i)^(?:true|false|null|none|nil|undefined|required|optional|string|bearer|basic)$''', r'''(?i)^(?:sha(?:1|256|384|512)|md5)[-:]''', r'''^(?:\$|%|@|&|#|\*)''', r'''^(?:~|\.{1,2})?/''']
STOP=["password","passwd","secret","token","process.env","getenv","environ","os.","config.","settings.","vault:","arn:aws","kms:","ref+","test1234","hunter2"]
pv=lambda: rnd(12,A62)+R.choice("!#%*")+rnd(5,string.digits)
rule("generic-secret-quoted", "Password, secret, token or API key assigned a literal string", KW,
  r'''(?i)'''+KEYS+r'''[a-z0-9_\-]{0,24}["'`]?(?:\s{0,2}:\s{0,2}&?(?:'static\s+)?[a-z_][a-z0-9_<>\[\]]{0,20})?\s{0,4}(?::=|=>|=|:)\s{0,4}(?:(?:new\s+)?(?:String|str|b|r|u|f)\(?\s{0,2})?["'`]([\x21-\x7e&&[^"'`\\]]{8,200})["'`]''', "medium",
  ['db_password = "'+pv()+'"', "  'client_secret': '"+rnd(32)+"',", '"apiKey": "'+rnd(24)+rnd(4,string.digits)+'",', 'String signingKey = "'+rnd(28)+'9";', 'const SECRET_TOKEN = `'+rnd(30)+'3`;', 'config.access_key := "'+rnd(20,string.ascii_uppercase+string.digits)+'"', 'encryption_key: "'+base64.b64encode(secrets.token_bytes(32)).decode()+'"', 'ROOT_PASSWORD => "'+pv()+'",', 'const CLIENT_SECRET: &str = "'+rnd(30)+'7";', 'const apiKey: string = "'+rnd(26)+'5";'],
  ['password = "password123"', 'api_key = os.environ["API_KEY"]', 'secret: "${APP_SECRET}"', 'token = "<insert token>"', 'password_field = "user_password_input"', 'private_key = "/etc/ssl/private/server.key"', '"token": "550e8400-e29b-41d4-a716-446655440000"', 'password: "********"', 'api_key = settings.API_KEY', 'token_type = "bearer"', 'secret_name = "prod-db-credentials"', 'password = "CorrectHorseBatteryStaple"', 'getSsl(null, "password", "test-alias-404", "classpath:test.jks");', 'assert_logged({ password: "[FILTERED]" })', "token = 'abc'", '"password": "L\u00f6senord"', '"api_key": "API-Schlüssel"'],
  secret_group=1, entropy=3.0, min_char_classes=2, generic=True, stopwords=STOP, excluded_secrets=EXCL,
  revoke="Rotate the credential with whoever issued it, then load it from the environment or a secret store")
rule("generic-secret-unquoted", "Password, secret, token or API key in a .env, INI, properties or YAML file", KW,
  r'''(?im)^[ \t]*(?:(?:export|ENV|ARG|set|setx)[ \t]+)?[a-z0-9_.\-]{0,40}'''+KEYS+r'''[a-z0-9_.\-]{0,24}[ \t]{0,4}[=:][ \t]{0,4}([\x21-\x7e&&[^"'`;,(){}\[\]<>]]{8,200})(?:[ \t]+[#;][^\n]*)?[ \t]*\r?$''', "medium",
  ['DB_PASSWORD='+pv(), 'REDIS_PASSWORD='+pv()+'  # rotated quarterly', 'export STRIPE_WEBHOOK_SECRET_KEY='+rnd(32), 'spring.datasource.password = '+pv(), 'auth_token: '+rnd(36), 'smtp.passwd='+pv(), 'ENV SMTP_PASSWORD='+pv(), 'ARG NPM_TOKEN='+rnd(36)],
  ['DB_PASSWORD=', 'API_KEY=${API_KEY}', 'password: changeme', 'secret_key_base: <%= ENV["SECRET_KEY_BASE"] %>', 'token: !vault |', 'password=password', 'SECRET_KEY=django-insecure-please-change', 'api_key: YOUR_API_KEY_HERE', 'PRIVATE_KEY_PATH=/run/secrets/key.pem', 'access_token: ref+vault://secret/data/app#token', 'ansible_ssh_private_key_file: ~/.ssh/id_ed25519', 'encryption_key_file_generator = Rails::Generators::EncryptionKeyFileGenerator.new', 'password: Contraseña', 'password_confirmation: Confirmación'],
  secret_group=1, entropy=3.0, min_char_classes=2, generic=True, stopwords=STOP, excluded_secrets=EXCL,
  revoke="Rotate the credential with whoever issued it, then load it from the environment or a secret store")
open('/tmp/gen/generic.toml','w').write("# Catch-all rules: secrets recognised by the name they are assigned to. They report only\n# where no specific rule found the same secret.\n\n"+"\n".join(out)); out.clear()
