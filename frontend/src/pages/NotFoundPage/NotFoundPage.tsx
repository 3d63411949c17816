import Button from '@mui/material/Button';
import Typography from '@mui/material/Typography';
import { useEffect } from 'react';
import { Link } from 'react-router-dom';
import { colorVars } from '../../theme';

/**
 * The page's own 404: the server answers every path that is not a file with index.html,
 * so an unknown path lands here rather than on an HTTP error page.
 */
export default function NotFoundPage() {
  useEffect(() => {
    document.title = '페이지를 찾을 수 없습니다 · AI 비서';
  }, []);
  return (
    <main
      data-testid="not-found"
      style={{
        minHeight: '100dvh',
        display: 'flex',
        flexDirection: 'column',
        alignItems: 'center',
        justifyContent: 'center',
        gap: 12,
        padding: 24,
        textAlign: 'center',
        background: colorVars.background.default,
      }}
    >
      <Typography component="p" sx={{ fontSize: '3rem', fontWeight: 800, color: 'divider' }}>
        404
      </Typography>
      <Typography component="h1" variant="h5" sx={{ fontWeight: 700 }}>
        페이지를 찾을 수 없습니다
      </Typography>
      <Typography sx={{ color: 'text.secondary' }}>주소가 바뀌었거나 없는 페이지입니다.</Typography>
      <Button component={Link} to="/chat" variant="contained" sx={{ mt: 1 }}>
        AI 비서로 가기
      </Button>
    </main>
  );
}
