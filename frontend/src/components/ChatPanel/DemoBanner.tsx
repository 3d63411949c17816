import InfoOutlinedIcon from '@mui/icons-material/InfoOutlined';
import Alert from '@mui/material/Alert';
import type { ConnectionSnapshot } from '../../lib/chat-socket';
import { useConnection } from '../../lib/use-chat';

const selectModel = (c: ConnectionSnapshot) => c.welcome?.model ?? null;

/** Shown when the server has no LLM key and answers with its offline `demo` model. */
export function DemoBanner() {
  const model = useConnection(selectModel);
  if (model !== 'demo') return null;
  return (
    <Alert
      severity="info"
      icon={<InfoOutlinedIcon fontSize="inherit" />}
      data-testid="demo-banner"
      sx={{ borderRadius: 0, py: 0.25, fontSize: '0.85rem', bgcolor: 'chat.bannerBackground', color: 'chat.bannerText' }}
    >
      데모 모드입니다. 서버에 AI 모델 키(GEMINI_API_KEY)가 없어 미리 정해진 데모 답변이 표시됩니다.
    </Alert>
  );
}
